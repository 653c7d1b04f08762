/**
 * The Redis stores against the real Redis: the ownership contract (same suite as SQLite) and the
 * one-call read of every owner (herald router), and the
 * subscription cache in front of real MySQL: the SubscriptionStore contract, read-your-writes of
 * the fan-out lookup across two instances sharing Redis (also for a topic that a subscribe takes
 * over maxInline), counters shared by callers with different maxInline, and serving from MySQL
 * while Redis is unreachable.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { logger } from '../../core/logger.ts';
import { registry } from '../../core/metrics.ts';
import { openMysqlSubscriptionStore } from '../../stores/mysql/subscription-store.ts';
import { CachedSubscriptionStore } from '../../stores/redis/cached-subscription-store.ts';
import { connectRedis, redisReady } from '../../stores/redis/client.ts';
import { RedisOwnershipStore } from '../../stores/redis/ownership-store.ts';
import { RedisPresenceStore } from '../../stores/redis/presence-store.ts';
import { presenceStoreContract } from '../contract/presence-store.contract.ts';
import { ownershipStoreContract } from '../contract/ownership-store.contract.ts';
import { subscriptionStoreContract } from '../contract/subscription-store.contract.ts';
import { freshMysqlDatabases, redisUrl } from '../helpers/services.ts';

ownershipStoreContract('redis', async () => {
  const redis = connectRedis({ url: redisUrl() });
  await redisReady(redis);
  const store = new RedisOwnershipStore(redis, `herald-test:${randomUUID()}:own:`);
  return { store, cleanup: async () => void redis.disconnect(), advance: (ms) => new Promise((r) => setTimeout(r, ms)) };
});

describe('RedisOwnershipStore.ownersOf (the router\'s map)', () => {
  it('reads every partition of a log in one call: owner URL or null', async () => {
    const redis = connectRedis({ url: redisUrl() });
    try {
      await redisReady(redis);
      const store = new RedisOwnershipStore(redis, `herald-test:${randomUUID()}:own:`);
      await store.claim('users', [0, 3], 'http://a:1', 5_000);
      await store.claim('users', [2], 'http://b:2', 5_000);
      await store.claim('other', [1], 'http://c:3', 5_000);
      expect(await store.ownersOf('users', 5)).toEqual(['http://a:1', null, 'http://b:2', 'http://a:1', null]);
      await store.release('users', [3], 'http://a:1');
      expect(await store.ownersOf('users', 5)).toEqual(['http://a:1', null, 'http://b:2', null, null]);
    } finally {
      redis.disconnect();
    }
  });
});

async function cachedStore(urls: string[], prefix: string, url = redisUrl()) {
  const redis = connectRedis({ url });
  if (url === redisUrl()) await redisReady(redis);
  const store = new CachedSubscriptionStore(await openMysqlSubscriptionStore({ shards: urls }), redis, logger, { prefix });
  return { store, redis };
}

subscriptionStoreContract('mysql + redis cache', async () => {
  const dbs = await freshMysqlDatabases(1);
  const { store, redis } = await cachedStore(dbs.urls, `herald-test:${randomUUID()}:subs:`);
  return {
    store,
    cleanup: async () => {
      await store.close();
      redis.disconnect();
      await dbs.drop();
    },
  };
});

describe('subscription cache', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** Two cache instances sharing one Redis prefix over the same two MySQL shards. */
  const twoInstances = async () => {
    const dbs = await freshMysqlDatabases(2);
    const prefix = `herald-test:${randomUUID()}:subs:`;
    const a = await cachedStore(dbs.urls, prefix);
    const b = await cachedStore(dbs.urls, prefix);
    cleanups.push(async () => {
      await a.store.close();
      await b.store.close();
      a.redis.disconnect();
      b.redis.disconnect();
      await dbs.drop();
    });
    return { a, b, prefix };
  };
  const lookupsBy = async (result: string): Promise<number> =>
    (await registry.getSingleMetric('herald_subscription_cache_lookups_total')!.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  it('gives read-your-writes across instances that share Redis: a cached topic sees a subscribe and an unsubscribe made elsewhere at once', async () => {
    const { a, b } = await twoInstances();
    const users = async (s: CachedSubscriptionStore, t: string) =>
      ((await s.subscribersForFanout([t], 100)).inline.get(t) ?? []).filter((x) => x.unsubscribed_at === undefined).map((x) => x.user_id);
    const hitsBefore = await lookupsBy('hit');
    for (let round = 0; round < 20; round++) {
      const topic = `news-${round}`;
      await a.store.subscribe(topic, 'alice', 1);
      expect(await users(b.store, topic)).toEqual(['alice']); // b fills the cache
      expect(await users(b.store, topic)).toEqual(['alice']); // served from the cache
      await a.store.subscribe(topic, 'bob', 2);
      expect(await users(b.store, topic)).toEqual(['alice', 'bob']);
      await a.store.unsubscribe(topic, 'alice');
      expect(await users(b.store, topic)).toEqual(['bob']);
    }
    expect((await lookupsBy('hit')) - hitsBefore).toBeGreaterThanOrEqual(20);
  });

  it('a topic that a subscribe takes over maxInline is paged on every instance once that subscribe returned, and stays paged', async () => {
    const { a, b } = await twoInstances();
    for (let i = 0; i < 3; i++) await a.store.subscribe('grows', `u${i}`, 1);
    expect((await b.store.subscribersForFanout(['grows', 'calm'], 3)).inline.get('grows')).toHaveLength(3); // cached inline
    expect((await b.store.subscribersForFanout(['grows'], 3)).inline.get('grows')).toHaveLength(3); // hit
    await a.store.subscribe('grows', 'u3', 2); // the 4th period: over maxInline
    expect(await b.store.subscribersForFanout(['grows', 'calm'], 3)).toEqual({ inline: new Map([['calm', []]]), paged: new Set(['grows']) });
    const pagedBefore = await lookupsBy('paged');
    expect((await b.store.subscribersForFanout(['grows'], 3)).paged).toEqual(new Set(['grows'])); // from the cached count
    expect((await lookupsBy('paged')) - pagedBefore).toBe(1);
    for (let i = 0; i < 4; i++) await a.store.unsubscribe('grows', `u${i}`, 3);
    await a.store.purgeUnsubscribed(4);
    expect((await b.store.subscribersForFanout(['grows'], 3)).paged).toEqual(new Set(['grows']));
    expect((await a.store.subscribersForFanout(['grows'], 3)).paged).toEqual(new Set(['grows']));
  });

  it('one cache entry answers callers with different maxInline as the store does', async () => {
    const { a, b, prefix } = await twoInstances();
    for (let i = 0; i < 5; i++) await a.store.subscribe('five', `u${i}`, 1);
    // Paged for a caller with maxInline 4: only the count is cached.
    expect((await a.store.subscribersForFanout(['five'], 4)).paged).toEqual(new Set(['five']));
    expect(await a.redis.get(`${prefix}{five}:f`)).toBe('P:5');
    expect((await b.store.subscribersForFanout(['five'], 2)).paged).toEqual(new Set(['five'])); // answered by the count
    // A caller with room for it misses, reads MySQL, and caches the list with its count.
    const roomy = await b.store.subscribersForFanout(['five'], 5);
    expect(roomy.inline.get('five')?.map((x) => x.user_id)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(JSON.parse((await a.redis.get(`${prefix}{five}:f`))!)).toMatchObject({ c: 5 });
    expect((await a.store.subscribersForFanout(['five'], 4)).paged).toEqual(new Set(['five']));
    expect((await a.store.subscribersForFanout(['five'], 10)).inline.get('five')).toHaveLength(5);
  });

  it('caches only the count of a topic over maxCachedSubscribers, and serves its list from MySQL', async () => {
    const dbs = await freshMysqlDatabases(1);
    const prefix = `herald-test:${randomUUID()}:subs:`;
    const redis = connectRedis({ url: redisUrl() });
    await redisReady(redis);
    const store = new CachedSubscriptionStore(await openMysqlSubscriptionStore({ shards: dbs.urls }), redis, logger, { prefix, maxCachedSubscribers: 2 });
    cleanups.push(async () => {
      await store.close();
      redis.disconnect();
      await dbs.drop();
    });
    for (let i = 0; i < 3; i++) await store.subscribe('t', `u${i}`, 1);
    const bigBefore = await lookupsBy('big');
    for (let n = 0; n < 2; n++) expect((await store.subscribersForFanout(['t'], 10)).inline.get('t')?.map((x) => x.user_id)).toEqual(['u0', 'u1', 'u2']);
    expect(await redis.get(`${prefix}{t}:f`)).toBe('P:3');
    expect((await lookupsBy('big')) - bigBefore).toBe(1);
    await store.subscribe('t', 'u3', 2);
    expect((await store.subscribersForFanout(['t'], 10)).inline.get('t')).toHaveLength(4);
  });

  it('keeps serving subscribe, unsubscribe and lookups from MySQL while Redis is unreachable, and counts it', async () => {
    const dbs = await freshMysqlDatabases(1);
    const down = await cachedStore(dbs.urls, `herald-test:${randomUUID()}:subs:`, 'redis://127.0.0.1:1');
    cleanups.push(async () => {
      await down.store.close();
      down.redis.disconnect();
      await dbs.drop();
    });
    const before = (await registry.getSingleMetric('herald_subscription_cache_errors_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    await down.store.subscribe('ops', 'erin', 1);
    await down.store.subscribe('ops', 'finn', 1);
    await down.store.unsubscribe('ops', 'erin');
    for (let i = 0; i < 3; i++) await down.store.subscribe('big', `u${i}`, 1);
    const found = await down.store.subscribersForFanout(['ops', 'big', 'none'], 2);
    expect(found.paged).toEqual(new Set(['big']));
    expect((found.inline.get('ops') ?? []).filter((s) => s.unsubscribed_at === undefined).map((s) => s.user_id)).toEqual(['finn']);
    expect(found.inline.get('none')).toEqual([]);
    expect((await down.store.subscribersInRange('big', { from: 0, to: 2 ** 32 }, null, 10)).subscribers).toHaveLength(3);
    expect(((await down.store.subscribersOf(['ops'])).get('ops') ?? []).map((s) => s.user_id)).toEqual(['erin', 'finn']);
    const after = (await registry.getSingleMetric('herald_subscription_cache_errors_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    expect(after).toBeGreaterThan(before);
  });
});

presenceStoreContract('redis', async () => {
  const redis = connectRedis({ url: redisUrl() });
  await redisReady(redis);
  const store = new RedisPresenceStore(redis, `herald-test:${randomUUID()}:presence:`);
  return { store, cleanup: async () => void redis.disconnect(), advance: (ms) => new Promise((r) => setTimeout(r, ms)) };
});
