import { defineConfig } from 'vitest/config';

/** Integration tests against real servers started by scripts/services.sh (see scripts/test-integration.sh). */
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    testTimeout: 120_000, // ms
    hookTimeout: 120_000, // ms
    pool: 'forks',
    // One broker serves every file: run files one at a time so rebalance timings stay predictable.
    fileParallelism: false,
    reporters: ['default'],
  },
});
