/**
 * Shared parts of the paged fan-out in the subscription stores (SQLite, MySQL) and the Redis cache
 * in front of them: the per-topic counter of subscription periods ever created
 * (`topic_fanout.periods_created`), how a store's lookup rows turn into a {@link FanoutLookup},
 * and how a range read turns into a {@link SubscriberPage}.
 *
 * {@link FanoutCountSource} is internal to the stores (not part of `SubscriptionStore`): the
 * cache needs each topic's count, not only the paged/inline answer, so that one cache entry can
 * answer callers that pass different `maxInline` values exactly as the store would.
 */
import { USER_HASH_SPACE, type UserHashRange } from '../core/user-hash.ts';
import type { FanoutLookup, Subscriber, SubscriberCursor, SubscriberPage } from './types.ts';

/** What a store knows about one topic for the fan-out lookup. */
export interface CountedFanout {
  /** Subscription periods ever created for the topic (only grows; 0 for an unknown topic). */
  periods: number;
  /**
   * The topic's periods (ordered by user_id, then subscribed_at; ended ones with unsubscribed_at)
   * when `periods` ≤ the asked `maxInline`; null when the topic is paged for that `maxInline`.
   */
  subscribers: Subscriber[] | null;
}

/** A store that can answer the fan-out lookup together with the counters (SQLite, MySQL). */
export interface FanoutCountSource {
  /**
   * The fan-out lookup of `SubscriptionStore.subscribersForFanout` with each topic's counter:
   * an entry for every asked topic (duplicates once), in one round trip per shard.
   * @throws RangeError when maxInline is negative or NaN
   */
  fanoutWithCounts(topicIds: readonly string[], maxInline: number): Promise<Map<string, CountedFanout>>;
}

/**
 * One row of a store's fan-out lookup, for a topic that has a counter: its counter with one of its
 * periods, or with nulls (a row standing for the counter alone: a paged topic, an inline topic
 * without periods, or a counter row sent besides the periods). Rows of a topic must come ordered
 * by user_id (null first), then subscribed_at.
 */
export type FanoutRow = [topicId: string, periodsCreated: number, userId: string | null, subscribedAt: number | null, unsubscribedAt: number | null];

/**
 * The bound a store compares `periods_created` with (`periods_created <= ?`): `maxInline` itself,
 * capped at 2^53 − 1 so Infinity ("everything inline") can be sent as an SQL parameter.
 * @throws RangeError when maxInline is negative or NaN
 */
export function inlineBound(maxInline: number): number {
  if (Number.isNaN(maxInline) || maxInline < 0) throw new RangeError(`maxInline must be ≥ 0, got ${maxInline}`);
  return Math.min(Math.floor(maxInline), Number.MAX_SAFE_INTEGER);
}

/**
 * Folds ordered {@link FanoutRow}s into one {@link CountedFanout} per asked topic: topics without a
 * counter row are unknown (0 periods, inline []); a counter above `maxInline` means paged.
 */
export function countedFromRows(topicIds: readonly string[], rows: Iterable<FanoutRow>, maxInline: number): Map<string, CountedFanout> {
  const out = new Map<string, CountedFanout>();
  for (const t of topicIds) out.set(t, { periods: 0, subscribers: [] });
  for (const [topicId, periods, userId, subscribedAt, unsubscribedAt] of rows) {
    const entry = out.get(topicId);
    if (entry === undefined) continue;
    entry.periods = Number(periods);
    if (entry.periods > maxInline) entry.subscribers = null;
    else if (userId !== null) entry.subscribers?.push(subscriberOf(userId, subscribedAt!, unsubscribedAt));
  }
  return out;
}

/** Splits counted topics into the inline and paged sets of a {@link FanoutLookup}. */
export function toFanoutLookup(counted: ReadonlyMap<string, CountedFanout>): FanoutLookup {
  const lookup: FanoutLookup = { inline: new Map(), paged: new Set() };
  for (const [topicId, { subscribers }] of counted) {
    if (subscribers === null) lookup.paged.add(topicId);
    else lookup.inline.set(topicId, subscribers);
  }
  return lookup;
}

/** A {@link Subscriber} from stored columns (numbers may arrive as strings or bigints). */
export function subscriberOf(userId: string, subscribedAt: number | string | bigint, unsubscribedAt: number | string | bigint | null): Subscriber {
  return unsubscribedAt === null ? { user_id: userId, subscribed_at: Number(subscribedAt) } : { user_id: userId, subscribed_at: Number(subscribedAt), unsubscribed_at: Number(unsubscribedAt) };
}

/** One row of a range read: user_hash, user_id, subscribed_at, unsubscribed_at (null while open). */
export type RangeRow = [userHash: number, userId: string, subscribedAt: number, unsubscribedAt: number | null];

/**
 * Checks the arguments of `SubscriptionStore.subscribersInRange` and returns the lower hash
 * bound to scan from: `range.from`, or the cursor's hash when that is higher (the range scan starts
 * at the cursor). Returns null when nothing can match (an empty range, or a cursor past it).
 * @throws RangeError unless 0 ≤ from, to ≤ 2^32 and limit is an integer ≥ 1
 */
export function rangeStart(range: UserHashRange, after: SubscriberCursor | null, limit: number): number | null {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`);
  if (!(range.from >= 0 && range.to <= USER_HASH_SPACE)) throw new RangeError(`hash range must lie in [0, 2^32], got [${range.from}, ${range.to})`);
  const start = after === null ? range.from : Math.max(range.from, after.user_hash);
  return start < range.to ? start : null;
}

/**
 * A page from up to `limit + 1` ordered rows: the first `limit`, and `next` = the cursor of the last
 * of them when a further row exists.
 */
export function pageOf(rows: readonly RangeRow[], limit: number): SubscriberPage {
  const more = rows.length > limit;
  const taken = more ? rows.slice(0, limit) : rows;
  const last = taken[taken.length - 1];
  return {
    subscribers: taken.map(([, userId, subscribedAt, unsubscribedAt]) => subscriberOf(userId, subscribedAt, unsubscribedAt)),
    next: more && last !== undefined ? { user_hash: Number(last[0]), user_id: last[1], subscribed_at: Number(last[2]) } : null,
  };
}
