/**
 * Validating an operator's raw options against its catalogue schema (topology/builtin-types.ts).
 * `CompiledOperator.options` are already valid; this re-applies the rules when an operator is
 * built directly (tests, benchmarks) so a bad value never reaches a hot path.
 */
import type { z } from 'zod';
import { HeraldError } from '../core/errors.ts';

/**
 * Validates and completes `raw` (undefined = no options) with `schema`.
 * @param type operator type, for the message
 * @throws HeraldError HERALD_TOPOLOGY_INVALID naming the bad option path(s) in `details`
 */
export function parseOperatorOptions<S extends z.ZodType>(type: string, schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new HeraldError('HERALD_TOPOLOGY_INVALID', `${type} options: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { details: issues });
  }
  return result.data;
}
