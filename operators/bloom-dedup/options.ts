/**
 * Options of the `bloom-dedup` operator, defaults in one object. The topology catalogue
 * validates node options up front; {@link parseBloomDedupOptions} applies the same rules when an
 * operator is built directly (tests, benchmarks) so a bad value never reaches a hot path.
 */
import { z } from 'zod';
import { HeraldError } from '../../core/errors.ts';

/** Defaults of the bloom-dedup options. */
export const BLOOM_DEDUP_DEFAULTS = {
  window_ms: 600_000, // ms: ten minutes per Bloom filter window
  windows: 6, // windows kept: dedup horizon ≈ windows × window_ms = one hour
  expected_keys_per_window: 100_000, // keys: a window rotates early when it holds this many
  false_positive_rate: 0.001, // of a test against all windows together
  key: 'idempotency_key', // record field of the idempotency key; falls back to the notification id
} as const;

/** Schema of the bloom-dedup options (snake_case as in the topology file). */
export const bloomDedupOptionsSchema = z
  .object({
    window_ms: z.number().int().min(1).default(BLOOM_DEDUP_DEFAULTS.window_ms),
    windows: z.number().int().min(1).max(64).default(BLOOM_DEDUP_DEFAULTS.windows),
    expected_keys_per_window: z.number().int().min(1).max(100_000_000).default(BLOOM_DEDUP_DEFAULTS.expected_keys_per_window),
    false_positive_rate: z.number().gt(0).lt(1).default(BLOOM_DEDUP_DEFAULTS.false_positive_rate),
    key: z.enum(['idempotency_key', 'id']).default(BLOOM_DEDUP_DEFAULTS.key),
  })
  .strict();

/** Validated bloom-dedup options. */
export type BloomDedupOptions = z.infer<typeof bloomDedupOptionsSchema>;

/**
 * Validates and completes raw options.
 * @throws HeraldError HERALD_TOPOLOGY_INVALID naming the bad option path(s) in `details`
 */
export function parseBloomDedupOptions(raw: unknown): BloomDedupOptions {
  const result = bloomDedupOptionsSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new HeraldError('HERALD_TOPOLOGY_INVALID', `bloom-dedup options: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { details: issues });
  }
  return result.data;
}
