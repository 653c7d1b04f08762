import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real-server tests run with `npm run test:integration` (scripts/services.sh starts the servers).
    // The browser test runs with `npm run test:browser` (vitest.browser.config.ts).
    exclude: ['test/integration/**', 'test/browser/**', '**/node_modules/**'],
    testTimeout: 30_000, // ms
    hookTimeout: 60_000, // ms
    pool: 'forks',
    reporters: ['default'],
  },
});
