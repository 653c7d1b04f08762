/**
 * Options of the `user-repartition` operator. The schema and its defaults are the catalogue's
 * (topology/builtin-types.ts, defaults in topology/defaults.ts), so the topology compiler and the
 * operator apply the same rules; parseUserRepartitionOptions re-applies them when an operator is built
 * directly (tests, benchmarks) so a bad value never reaches a hot path.
 */
import { parseOperatorOptions } from '../parse-options.ts';
import { userRepartitionOptions, type UserRepartitionOptions } from '../../topology/builtin-types.ts';

export { userRepartitionOptions, type UserRepartitionOptions };

/**
 * Validates and completes raw options (`CompiledOperator.options` are already valid).
 * @throws HeraldError HERALD_TOPOLOGY_INVALID naming the bad option path(s) in `details`
 */
export function parseUserRepartitionOptions(raw: unknown): UserRepartitionOptions {
  return parseOperatorOptions('user-repartition', userRepartitionOptions, raw);
}
