/**
 * The Redis stores against the real Redis: the ownership contract (same suite as SQLite), and the
 * subscription cache in front of real MySQL: the SubscriptionStore contract, read-your-writes
 * across two instances sharing Redis, and serving from MySQL while Redis is unreachable.
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

  it('gives read-your-writes across instances that share Redis: a cached topic sees a subscribe and an unsubscribe made elsewhere at once', async () => {
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
    const users = async (s: CachedSubscriptionStore, t: string) => ((await s.subscribersOf([t])).get(t) ?? []).filter((x) => x.unsubscribed_at === undefined).map((x) => x.user_id);
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
    const hits = (await registry.getSingleMetric('herald_subscription_cache_lookups_total')!.get()).values.find((v) => v.labels.result === 'hit');
    expect(hits?.value ?? 0).toBeGreaterThanOrEqual(20);
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
    expect(((await down.store.subscribersOf(['ops'])).get('ops') ?? []).filter((s) => s.unsubscribed_at === undefined).map((s) => s.user_id)).toEqual(['finn']);
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
