/**
 * The subscription store of the kafka profile's network stores: MySQL shards, with the Redis
 * cache in front when a Redis URL is given. Used by the main thread and, read-only, by operator
 * worker threads (each opens its own small pools).
 */
import { logger } from '../core/logger.ts';
import { openMysqlSubscriptionStore } from './mysql/subscription-store.ts';
import { CachedSubscriptionStore } from './redis/cached-subscription-store.ts';
import { connectRedis } from './redis/client.ts';
import type { SubscriptionStore } from './types.ts';

/** Options of {@link openNetworkSubscriptionStore}. */
export interface NetworkSubscriptionOptions {
  /** MySQL shard URLs (HERALD_MYSQL_SHARDS). */
  shards: string[];
  /** HERALD_REDIS_URL; absent: no cache. */
  redisUrl?: string;
  /** Apply MySQL migrations. Default true. */
  migrate?: boolean;
  connectionsPerShard?: number;
}

/**
 * Opens MySQL (migrating unless told not to) and, with `redisUrl`, the cache. Redis need not be
 * up: the cache falls back to MySQL until it is.
 * @throws HeraldError HERALD_STORE_FAILED / HERALD_STORE_REJECTED from MySQL
 */
export async function openNetworkSubscriptionStore(o: NetworkSubscriptionOptions): Promise<SubscriptionStore> {
  const mysql = await openMysqlSubscriptionStore({ shards: o.shards, migrate: o.migrate, connectionsPerShard: o.connectionsPerShard });
  if (!o.redisUrl) return mysql;
  const redis = connectRedis({ url: o.redisUrl });
  const cached = new CachedSubscriptionStore(mysql, redis, logger);
  return {
    subscribe: (t, u, at) => cached.subscribe(t, u, at),
    unsubscribe: (t, u, at) => cached.unsubscribe(t, u, at),
    purgeUnsubscribed: (before) => cached.purgeUnsubscribed(before),
    subscribersOf: (ts) => cached.subscribersOf(ts),
    subscribersForFanout: (ts, maxInline) => cached.subscribersForFanout(ts, maxInline),
    subscribersInRange: (t, range, after, limit) => cached.subscribersInRange(t, range, after, limit),
    topicsOf: (u) => cached.topicsOf(u),
    async close() {
      await cached.close();
      redis.disconnect();
    },
  };
}
