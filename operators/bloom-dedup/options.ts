/**
 * Options of the `bloom-dedup` operator. The schema and its defaults are the catalogue's
 * (topology/builtin-types.ts, defaults in topology/defaults.ts), so the topology compiler and the
 * operator apply the same rules; parseBloomDedupOptions re-applies them when an operator is built
 * directly (tests, benchmarks) so a bad value never reaches a hot path.
 */
import { parseOperatorOptions } from '../parse-options.ts';
import { bloomDedupOptions, type BloomDedupOptions } from '../../topology/builtin-types.ts';

export { bloomDedupOptions, type BloomDedupOptions };

/**
 * Validates and completes raw options (`CompiledOperator.options` are already valid).
 * @throws HeraldError HERALD_TOPOLOGY_INVALID naming the bad option path(s) in `details`
 */
export function parseBloomDedupOptions(raw: unknown): BloomDedupOptions {
  return parseOperatorOptions('bloom-dedup', bloomDedupOptions, raw);
}
