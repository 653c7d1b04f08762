import { defineConfig } from 'vitest/config';

/**
 * The browser test (`npm run test:browser`): a node test that drives Debian's headless Chromium
 * through playwright-core against Herald as a child process. Not vitest's browser mode.
 * scripts/setup-browser.sh installs Chromium first.
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.test.ts'],
    testTimeout: 90_000, // ms
    hookTimeout: 60_000, // ms
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
