/**
 * Options of the `user-repartition` operator, defaults in one object (validated again here so
 * an operator built directly by a test or benchmark gets the same rules as the catalogue's).
 */
import { z } from 'zod';
import { HeraldError } from '../../core/errors.ts';

/** Defaults of the user-repartition options. */
export const USER_REPARTITION_DEFAULTS = {
  key: 'user_id', // the new record key: each recipient's user_id (the only key supported)
} as const;

/** Schema of the user-repartition options. */
export const userRepartitionOptionsSchema = z
  .object({
    key: z.literal('user_id').default(USER_REPARTITION_DEFAULTS.key),
  })
  .strict();

/** Validated user-repartition options. */
export type UserRepartitionOptions = z.infer<typeof userRepartitionOptionsSchema>;

/**
 * Validates and completes raw options.
 * @throws HeraldError HERALD_TOPOLOGY_INVALID naming the bad option path(s) in `details`
 */
export function parseUserRepartitionOptions(raw: unknown): UserRepartitionOptions {
  const result = userRepartitionOptionsSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new HeraldError('HERALD_TOPOLOGY_INVALID', `user-repartition options: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { details: issues });
  }
  return result.data;
}
