/**
 * Options of the `subscription-join` operator, defaults in one object (validated again here so
 * an operator built directly by a test or benchmark gets the same rules as the catalogue's).
 */
import { z } from 'zod';
import { HeraldError } from '../../core/errors.ts';

/** Defaults of the subscription-join options. */
export const SUBSCRIPTION_JOIN_DEFAULTS = {
  max_subscribers_per_lookup: 1_000_000, // subscribers: a lookup returning more fails the batch (memory guard)
} as const;

/** Schema of the subscription-join options. */
export const subscriptionJoinOptionsSchema = z
  .object({
    max_subscribers_per_lookup: z.number().int().min(1).default(SUBSCRIPTION_JOIN_DEFAULTS.max_subscribers_per_lookup),
  })
  .strict();

/** Validated subscription-join options. */
export type SubscriptionJoinOptions = z.infer<typeof subscriptionJoinOptionsSchema>;

/**
 * Validates and completes raw options.
 * @throws HeraldError HERALD_TOPOLOGY_INVALID naming the bad option path(s) in `details`
 */
export function parseSubscriptionJoinOptions(raw: unknown): SubscriptionJoinOptions {
  const result = subscriptionJoinOptionsSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new HeraldError('HERALD_TOPOLOGY_INVALID', `subscription-join options: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { details: issues });
  }
  return result.data;
}
