/**
 * Cache-aside in Redis in front of a SubscriptionStore (MySQL) for the fan-out lookup
 * (`subscribersForFanout`): topic → its periods-created counter, and its periods when it is small.
 *
 * Read-your-writes across edges and job instances: subscribe/unsubscribe write the store first,
 * then bump the topic's version key and delete its cache entry. A reader that misses reads the
 * version, then the store, then fills the entry only if the version is still the one it read
 * (one Lua script), so a fill that raced a write is dropped instead of caching stale data. Once a
 * subscribe has returned, the next lookup sees it — including a topic that this subscribe took
 * over `maxInline`, which is paged from the next lookup on.
 *
 * Entries carry the topic's counter (periods ever created, see stores/fanout-counts.ts), so the
 * inline/paged decision is the store's own (`count > maxInline` → paged) whatever `maxInline` a
 * caller passes:
 * - `{"c":count,"s":[[user_id, subscribed_at(, unsubscribed_at)], …]}`: the whole list (count ≤
 *   `maxCachedSubscribers` and the filling caller got it inline). Answers every caller.
 * - `P:<count>`: only the counter (the list was paged for the filling caller, or too big to
 *   cache). Answers "paged" to callers with `maxInline < count`; a caller with a bigger
 *   `maxInline` misses and reads the store. The counter only grows, and any subscribe deletes
 *   the entry, so a cached count is never lower than the store's once that subscribe returned.
 * `subscribersOf` and `subscribersInRange` are not cached: they go to the store.
 *
 * Redis down: lookups fall back to the store (counted, logged, still served); invalidations that
 * could not reach Redis are kept and replayed when it is back, and entries expire after
 * `ttlSeconds` anyway, which bounds staleness if this process dies first.
 *
 * Keys: `<prefix>{topic}:f` (entry), `<prefix>{topic}:v` (version). The entry key of earlier
 * versions (`<prefix>{topic}`, a bare list) is deleted by invalidations too but never read, so
 * instances of both versions can share one Redis during an upgrade.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.ts';
import { counter } from '../../core/metrics.ts';
import type { UserHashRange } from '../../core/user-hash.ts';
import type { CountedFanout, FanoutCountSource } from '../fanout-counts.ts';
import { inlineBound, toFanoutLookup } from '../fanout-counts.ts';
import type { FanoutLookup, Subscriber, SubscriberCursor, SubscriberPage, SubscriptionStore } from '../types.ts';

const lookups = counter(
  'herald_subscription_cache_lookups_total',
  'Topic lookups of the subscription cache, by result (hit: inline list from the cache, paged: paged by a cached count, miss, big: a cached count too big to cache the list but inline for this caller, error: Redis failed).',
  ['result'],
);
const cacheErrors = counter('herald_subscription_cache_errors_total', 'Redis failures of the subscription cache (served from the store instead).', ['op']);

/** Options of {@link CachedSubscriptionStore}. */
export interface SubscriptionCacheOptions {
  /** Lifetime of a cache entry, s. Default 300. */
  ttlSeconds?: number;
  /** Topics with more periods ever created are cached as a count only (`P:<count>`). Default 10 000. */
  maxCachedSubscribers?: number;
  /** Key prefix. Default `herald:subs:`. */
  prefix?: string;
}

/** Prefix of a count-only entry: `P:<periods ever created>`. */
const COUNT_ONLY = 'P:';

/** SET key value EX ttl only if the version key still holds the version the reader saw. */
const FILL_IF_VERSION = `
local v = redis.call('GET', KEYS[2])
if (v or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0`;

/** The pipeline with the fill command defined in the constructor. */
interface FillPipeline {
  heraldFillIfVersion(key: string, versionKey: string, version: string, value: string, ttlSeconds: number): unknown;
}

/** See the module comment. */
export class CachedSubscriptionStore implements SubscriptionStore {
  readonly #store: SubscriptionStore & FanoutCountSource;
  readonly #redis: Redis;
  readonly #log: Logger;
  readonly #ttl: number;
  readonly #max: number;
  readonly #prefix: string;
  /** Ended periods before this are purged from the store (hidden in cached lists), ms. */
  #purgedBefore = -Infinity;
  /** Topics whose invalidation did not reach Redis; replayed on reconnect. */
  readonly #pending = new Set<string>();

  /** `store` must also expose its counters ({@link FanoutCountSource}: the MySQL and SQLite stores do). */
  constructor(store: SubscriptionStore & FanoutCountSource, redis: Redis, log: Logger, o: SubscriptionCacheOptions = {}) {
    this.#store = store;
    this.#redis = redis;
    this.#log = log.child({ store: 'subscription-cache' });
    this.#ttl = o.ttlSeconds ?? 300;
    this.#max = o.maxCachedSubscribers ?? 10_000;
    this.#prefix = o.prefix ?? 'herald:subs:';
    redis.on('ready', () => void this.#replayInvalidations());
    // Sent once per connection, then called by its SHA (EVALSHA): a miss fills hundreds of keys.
    if (!('heraldFillIfVersion' in redis)) redis.defineCommand('heraldFillIfVersion', { numberOfKeys: 2, lua: FILL_IF_VERSION });
  }

  #key(topicId: string): string {
    return `${this.#prefix}{${topicId}}:f`;
  }
  /** The entry key of earlier versions (a bare list); only deleted. */
  #legacyKey(topicId: string): string {
    return `${this.#prefix}{${topicId}}`;
  }
  #versionKey(topicId: string): string {
    return `${this.#prefix}{${topicId}}:v`;
  }

  async subscribe(topicId: string, userId: string, atMs: number): Promise<{ created: boolean }> {
    const r = await this.#store.subscribe(topicId, userId, atMs);
    await this.#invalidate(topicId);
    return r;
  }

  async unsubscribe(topicId: string, userId: string, atMs?: number): Promise<{ removed: boolean }> {
    const r = await this.#store.unsubscribe(topicId, userId, atMs);
    await this.#invalidate(topicId);
    return r;
  }

  async topicsOf(userId: string): Promise<string[]> {
    return this.#store.topicsOf(userId);
  }

  /**
   * Purges in the store. Cached lists may still hold the purged (long-ended) periods until they
   * expire; this instance hides them from then on (they could not match a publish anyway).
   */
  async purgeUnsubscribed(beforeMs: number): Promise<number> {
    const n = await this.#store.purgeUnsubscribed(beforeMs);
    this.#purgedBefore = Math.max(this.#purgedBefore, beforeMs);
    return n;
  }

  /** Not cached: read from the store. */
  async subscribersOf(topicIds: readonly string[]): Promise<Map<string, Subscriber[]>> {
    return this.#store.subscribersOf(topicIds);
  }

  /** Not cached: read from the store (a page of a big topic is read once per publish). */
  async subscribersInRange(topicId: string, range: UserHashRange, after: SubscriberCursor | null, limit: number): Promise<SubscriberPage> {
    return this.#store.subscribersInRange(topicId, range, after, limit);
  }

  /**
   * The store's fan-out lookup through the cache (see the module comment): one Redis round trip
   * for the batch, then one store lookup for the topics the cache cannot answer, then one
   * pipelined versioned fill. Redis down: the store answers.
   */
  async subscribersForFanout(topicIds: readonly string[], maxInline: number): Promise<FanoutLookup> {
    const bound = inlineBound(maxInline);
    const unique = [...new Set(topicIds)];
    const result: FanoutLookup = { inline: new Map(), paged: new Set() };
    if (unique.length === 0) return result;
    let cached: (string | null)[];
    try {
      // One round trip: every entry, then every version.
      cached = await this.#redis.mget(...unique.map((t) => this.#key(t)), ...unique.map((t) => this.#versionKey(t)));
    } catch (err) {
      this.#failed('lookup', err);
      lookups.inc({ result: 'error' }, unique.length);
      return this.#store.subscribersForFanout(unique, maxInline);
    }
    const misses: string[] = [];
    const versions = new Map<string, string>();
    for (let i = 0; i < unique.length; i++) {
      const t = unique[i]!;
      const entry = decodeEntry(cached[i]);
      if (entry !== null && entry.periods > bound) {
        result.paged.add(t);
        lookups.inc({ result: 'paged' });
      } else if (entry !== null && entry.subscribers !== null) {
        const subs = entry.subscribers;
        result.inline.set(t, this.#purgedBefore === -Infinity ? subs : subs.filter((x) => x.unsubscribed_at === undefined || x.unsubscribed_at >= this.#purgedBefore));
        lookups.inc({ result: 'hit' });
      } else {
        misses.push(t);
        versions.set(t, cached[unique.length + i] ?? '0');
        lookups.inc({ result: entry === null ? 'miss' : 'big' });
      }
    }
    if (misses.length === 0) return result;
    const fresh = await this.#store.fanoutWithCounts(misses, bound);
    const fills = this.#redis.pipeline();
    for (const t of misses) {
      const counted = fresh.get(t) ?? { periods: 0, subscribers: [] };
      if (counted.subscribers === null) result.paged.add(t);
      else result.inline.set(t, counted.subscribers);
      (fills as unknown as FillPipeline).heraldFillIfVersion(this.#key(t), this.#versionKey(t), versions.get(t)!, this.#encodeEntry(counted), this.#ttl);
    }
    try {
      await fills.exec();
    } catch (err) {
      this.#failed('fill', err);
    }
    return result;
  }

  /** The entry for a store answer: the list when it was read and is small enough, else the count. */
  #encodeEntry({ periods, subscribers }: CountedFanout): string {
    if (subscribers === null || periods > this.#max) return `${COUNT_ONLY}${periods}`;
    return JSON.stringify({ c: periods, s: subscribers.map((s) => (s.unsubscribed_at === undefined ? [s.user_id, s.subscribed_at] : [s.user_id, s.subscribed_at, s.unsubscribed_at])) });
  }

  async close(): Promise<void> {
    await this.#store.close();
  }

  async #invalidate(topicId: string): Promise<void> {
    try {
      await this.#redis.multi().incr(this.#versionKey(topicId)).expire(this.#versionKey(topicId), this.#ttl * 2).del(this.#key(topicId), this.#legacyKey(topicId)).exec();
      this.#pending.delete(topicId);
    } catch (err) {
      this.#pending.add(topicId);
      this.#failed('invalidate', err);
    }
  }

  async #replayInvalidations(): Promise<void> {
    for (const t of [...this.#pending]) await this.#invalidate(t);
  }

  #lastWarn = 0;
  #failed(op: string, err: unknown): void {
    cacheErrors.inc({ op });
    const now = Date.now();
    if (now - this.#lastWarn > 5_000) {
      this.#lastWarn = now;
      this.#log.warn({ err, op }, 'Redis unavailable: subscriptions served from the store');
    }
  }
}

/**
 * A cache entry (see the module comment) as counted data: `subscribers` null for a count-only
 * entry. Null for no entry, or one this version cannot read (treated as a miss and refilled).
 */
function decodeEntry(v: string | null | undefined): CountedFanout | null {
  if (v === null || v === undefined) return null;
  if (v.startsWith(COUNT_ONLY)) {
    const periods = Number(v.slice(COUNT_ONLY.length));
    return Number.isSafeInteger(periods) ? { periods, subscribers: null } : null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return null;
  }
  const { c, s } = (parsed ?? {}) as { c?: unknown; s?: unknown };
  if (typeof c !== 'number' || !Array.isArray(s)) return null;
  return {
    periods: c,
    subscribers: (s as [string, number, number?][]).map(([user_id, subscribed_at, unsubscribed_at]) =>
      unsubscribed_at === undefined ? { user_id, subscribed_at } : { user_id, subscribed_at, unsubscribed_at },
    ),
  };
}
