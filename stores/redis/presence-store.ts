/**
 * PresenceStore on Redis: one sorted set per user, `herald:presence:{user}`, member = edge URL,
 * score = when that edge's entry expires (ms). Online = any score in the future. The key itself
 * expires with its longest entry, so a dead edge leaves nothing behind.
 */
import type { Redis } from 'ioredis';
import type { PresenceStore } from '../types.ts';
import { execPipeline } from './client.ts';

/** ZADD the entry, then stretch the key's TTL to the entry's expiry if that is later. */
const UPSERT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`;

/** See the module comment. */
export class RedisPresenceStore implements PresenceStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(redis: Redis, prefix = 'herald:presence:', now: () => number = Date.now) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#now = now;
  }

  async online(userIds: readonly string[], edge: string, leaseMs: number): Promise<void> {
    if (userIds.length === 0) return;
    const until = this.#now() + leaseMs;
    const p = this.#redis.pipeline();
    for (const u of userIds) p.eval(UPSERT, 1, this.#prefix + u, until, edge, leaseMs);
    await execPipeline(p, 'presence.online');
  }

  async offline(userId: string, edge: string, graceMs: number): Promise<void> {
    const p = this.#redis.pipeline();
    p.eval(UPSERT, 1, this.#prefix + userId, this.#now() + graceMs, edge, graceMs);
    await execPipeline(p, 'presence.offline');
  }

  async onlineOf(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const now = this.#now();
    const p = this.#redis.pipeline();
    for (const u of userIds) p.zcount(this.#prefix + u, `(${now}`, '+inf');
    const results = await execPipeline(p, 'presence.onlineOf');
    const out = new Set<string>();
    results.forEach(([, n], i) => {
      if (Number(n) > 0) out.add(userIds[i]!);
    });
    return out;
  }

  async close(): Promise<void> {}
}
