/**
 * PartitionOwnershipStore on Redis: `herald:own:{log}:{partition}` = the owner's URL, with a
 * PX lease. A killed edge's claims expire on their own; release deletes a claim only if it still
 * names the releasing owner (a newer owner's claim stays).
 */
import type { Redis } from 'ioredis';
import type { PartitionOwnershipStore } from '../types.ts';
import { execPipeline, redisError } from './client.ts';

const RELEASE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** See the module comment. */
export class RedisOwnershipStore implements PartitionOwnershipStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = 'herald:own:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #key(log: string, partition: number): string {
    return `${this.#prefix}${log}:${partition}`;
  }

  async claim(log: string, partitions: readonly number[], owner: string, leaseMs: number): Promise<void> {
    if (partitions.length === 0) return;
    const p = this.#redis.pipeline();
    for (const n of partitions) p.set(this.#key(log, n), owner, 'PX', leaseMs);
    await execPipeline(p, 'ownership.claim');
  }

  async release(log: string, partitions: readonly number[], owner: string): Promise<void> {
    if (partitions.length === 0) return;
    const p = this.#redis.pipeline();
    for (const n of partitions) p.eval(RELEASE_IF_OWNER, 1, this.#key(log, n), owner);
    await execPipeline(p, 'ownership.release');
  }

  async ownerOf(log: string, partition: number): Promise<string | null> {
    try {
      return await this.#redis.get(this.#key(log, partition));
    } catch (err) {
      throw redisError(err, 'ownership.ownerOf');
    }
  }

  /**
   * Every partition's owner in one round trip (a single MGET), for the router's partition → edge
   * map (router/owner-map.ts).
   * @param partitions the log's partition count (>= 1)
   * @returns `partitions` entries, index = partition: the owner's URL, or null when unclaimed
   * @throws HeraldError HERALD_STORE_FAILED when Redis is unreachable or the command failed
   */
  async ownersOf(log: string, partitions: number): Promise<(string | null)[]> {
    try {
      return await this.#redis.mget(Array.from({ length: partitions }, (_, n) => this.#key(log, n)));
    } catch (err) {
      throw redisError(err, 'ownership.ownersOf');
    }
  }

  async close(): Promise<void> {}
}
