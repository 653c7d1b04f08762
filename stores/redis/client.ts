/**
 * Redis connections of Herald (ioredis): fail fast instead of queueing when Redis is down, so
 * callers can fall back (the subscription cache) or report a retriable error (ownership).
 */
import { Redis } from 'ioredis';
import { HeraldError } from '../../core/errors.ts';

/** Options of {@link connectRedis}. */
export interface RedisOptions {
  /** `redis://host:port[/db]` (HERALD_REDIS_URL). */
  url: string;
  /** Per-command timeout, ms. Default 500. */
  commandTimeoutMs?: number;
}

/** A Redis connection that rejects commands at once while disconnected and reconnects in the background. */
export function connectRedis(o: RedisOptions): Redis {
  const redis = new Redis(o.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: o.commandTimeoutMs ?? 500,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(2_000, 50 * 2 ** Math.min(times, 6)), // ms
    lazyConnect: false,
  });
  // Connection errors surface on the commands that fail (callers log and count them); without a
  // listener ioredis would print every reconnect attempt as an unhandled error event.
  redis.on('error', () => {});
  return redis;
}

/**
 * Waits until `redis` is ready.
 * @throws HeraldError HERALD_STORE_FAILED when it is not within `timeoutMs`
 */
export async function redisReady(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new HeraldError('HERALD_STORE_FAILED', `Redis did not become ready within ${timeoutMs} ms (status ${redis.status}): start it (scripts/services.sh up redis) or fix HERALD_REDIS_URL`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Wraps a Redis failure as HERALD_STORE_FAILED naming the operation. */
export function redisError(err: unknown, op: string): HeraldError {
  return new HeraldError('HERALD_STORE_FAILED', `Redis ${op} failed: ${(err as Error).message}`, { cause: err });
}

/**
 * Runs a pipeline; rejects with HERALD_STORE_FAILED (naming `op`) when Redis is unreachable or any
 * command of it failed.
 * @returns each command's [error, result]
 */
export async function execPipeline(p: ReturnType<Redis['pipeline']>, op: string): Promise<[Error | null, unknown][]> {
  let results: [Error | null, unknown][] | null;
  try {
    results = await p.exec();
  } catch (err) {
    throw redisError(err, op);
  }
  const failed = results?.find(([e]) => e !== null);
  if (failed) throw redisError(failed[0], op);
  return results ?? [];
}
