import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real-server tests run with `npm run test:integration` (scripts/services.sh starts the servers).
    exclude: ['test/integration/**', '**/node_modules/**'],
    testTimeout: 30_000, // ms
    hookTimeout: 60_000, // ms
    pool: 'forks',
    reporters: ['default'],
  },
});
