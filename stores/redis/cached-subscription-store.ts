/**
 * Cache-aside in Redis in front of a SubscriptionStore (MySQL): topic → subscribers.
 *
 * Read-your-writes across edges and job instances: subscribe/unsubscribe write the store first,
 * then bump the topic's version key and delete its cache entry. A reader that misses reads the
 * version, then the store, then fills the entry only if the version is still the one it read
 * (one Lua script), so a fill that raced a write is dropped instead of caching stale data. Once a
 * subscribe has returned, the next lookup sees it.
 *
 * Redis down: lookups fall back to the store (counted, logged, still served); invalidations that
 * could not reach Redis are kept and replayed when it is back, and entries expire after
 * `ttlSeconds` anyway, which bounds staleness if this process dies first. Topics with more than
 * `maxCachedSubscribers` are not cached (a marker sends their lookups to the store).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.ts';
import { counter } from '../../core/metrics.ts';
import type { Subscriber, SubscriptionStore } from '../types.ts';

const lookups = counter('herald_subscription_cache_lookups_total', 'Topic lookups of the subscription cache, by result (hit, miss, big, error).', ['result']);
const cacheErrors = counter('herald_subscription_cache_errors_total', 'Redis failures of the subscription cache (served from the store instead).', ['op']);

/** Options of {@link CachedSubscriptionStore}. */
export interface SubscriptionCacheOptions {
  /** Lifetime of a cache entry, s. Default 300. */
  ttlSeconds?: number;
  /** Topics with more subscribers are not cached. Default 10 000. */
  maxCachedSubscribers?: number;
  /** Key prefix. Default `herald:subs:`. */
  prefix?: string;
}

const BIG = 'B';

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
  readonly #store: SubscriptionStore;
  readonly #redis: Redis;
  readonly #log: Logger;
  readonly #ttl: number;
  readonly #max: number;
  readonly #prefix: string;
  /** Ended periods before this are purged from the store (hidden in cached lists), ms. */
  #purgedBefore = -Infinity;
  /** Topics whose invalidation did not reach Redis; replayed on reconnect. */
  readonly #pending = new Set<string>();

  constructor(store: SubscriptionStore, redis: Redis, log: Logger, o: SubscriptionCacheOptions = {}) {
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

  async subscribersOf(topicIds: readonly string[]): Promise<Map<string, Subscriber[]>> {
    const unique = [...new Set(topicIds)];
    if (unique.length === 0) return new Map();
    let cached: (string | null)[];
    try {
      // One round trip: every entry, then every version.
      cached = await this.#redis.mget(...unique.map((t) => this.#key(t)), ...unique.map((t) => this.#versionKey(t)));
    } catch (err) {
      this.#failed('lookup', err);
      lookups.inc({ result: 'error' }, unique.length);
      return this.#store.subscribersOf(unique);
    }
    const result = new Map<string, Subscriber[]>();
    const misses: string[] = [];
    const versions = new Map<string, string>();
    for (let i = 0; i < unique.length; i++) {
      const t = unique[i]!;
      const entry = cached[i];
      if (entry !== null && entry !== undefined && entry !== BIG) {
        const subs = decode(entry);
        result.set(t, this.#purgedBefore === -Infinity ? subs : subs.filter((x) => x.unsubscribed_at === undefined || x.unsubscribed_at >= this.#purgedBefore));
        lookups.inc({ result: 'hit' });
      } else {
        misses.push(t);
        versions.set(t, cached[unique.length + i] ?? '0');
        lookups.inc({ result: entry === BIG ? 'big' : 'miss' });
      }
    }
    if (misses.length === 0) return result;
    const fresh = await this.#store.subscribersOf(misses);
    const fills = this.#redis.pipeline();
    for (const t of misses) {
      const subs = fresh.get(t) ?? [];
      result.set(t, subs);
      const value = subs.length > this.#max ? BIG : encode(subs);
      (fills as unknown as FillPipeline).heraldFillIfVersion(this.#key(t), this.#versionKey(t), versions.get(t)!, value, this.#ttl);
    }
    try {
      await fills.exec();
    } catch (err) {
      this.#failed('fill', err);
    }
    return result;
  }

  async close(): Promise<void> {
    await this.#store.close();
  }

  async #invalidate(topicId: string): Promise<void> {
    try {
      await this.#redis.multi().incr(this.#versionKey(topicId)).expire(this.#versionKey(topicId), this.#ttl * 2).del(this.#key(topicId)).exec();
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

/** Cache value: JSON `[[user_id, subscribed_at(, unsubscribed_at)], …]` in user_id order. */
function encode(subs: readonly Subscriber[]): string {
  return JSON.stringify(subs.map((s) => (s.unsubscribed_at === undefined ? [s.user_id, s.subscribed_at] : [s.user_id, s.subscribed_at, s.unsubscribed_at])));
}

function decode(v: string): Subscriber[] {
  return (JSON.parse(v) as [string, number, number?][]).map(([user_id, subscribed_at, unsubscribed_at]) =>
    unsubscribed_at === undefined ? { user_id, subscribed_at } : { user_id, subscribed_at, unsubscribed_at },
  );
}
