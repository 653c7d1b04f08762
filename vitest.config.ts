import os from 'node:os';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Files that mostly wait (a provider paced at 10 sends/s) and run for minutes: started first, in
 * a worker of their own (one more than the cores), so they overlap the rest of the suite instead
 * of holding one of its workers or running alone at its end.
 */
const LONG_WAITS = ['test/e2e/channels-scale.e2e.test.ts'];

class LongWaitsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const first = (f: TestSpecification) => LONG_WAITS.some((p) => f.moduleId.endsWith(p));
    return [...sorted.filter(first), ...sorted.filter((f) => !first(f))];
  }
}

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
    sequence: { sequencer: LongWaitsFirst },
    maxWorkers: Math.max(2, os.availableParallelism()) + LONG_WAITS.length,
  },
});
