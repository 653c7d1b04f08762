/**
 * An InboxStore spread over several shards by user: each user lives in exactly one shard, chosen
 * by `shardOf(user_id)`. Lets several single-writer stores (SQLite files) be written in parallel;
 * reads of one user touch one shard. Works over any InboxStore implementations.
 */
import type { InboxEntry, InboxPage, InboxQuery, InboxStore } from './types.ts';

/**
 * Combines `shards` into one InboxStore.
 * @param shardOf shard index of a user, 0..shards.length-1; must never change for a user
 * @throws RangeError when there are no shards
 */
export function createShardedInbox(shards: readonly InboxStore[], shardOf: (userId: string) => number): InboxStore {
  if (shards.length === 0) throw new RangeError('a sharded inbox needs at least one shard');
  const shard = (userId: string) => shards[shardOf(userId)]!;
  return {
    async append(entries: readonly InboxEntry[]): Promise<boolean[]> {
      const groups = shards.map(() => ({ entries: [] as InboxEntry[], positions: [] as number[] }));
      entries.forEach((e, i) => {
        const g = groups[shardOf(e.user_id)]!;
        g.entries.push(e);
        g.positions.push(i);
      });
      const fresh = new Array<boolean>(entries.length);
      await Promise.all(
        groups.map(async (g, s) => {
          if (g.entries.length === 0) return;
          const flags = await shards[s]!.append(g.entries);
          flags.forEach((f, j) => (fresh[g.positions[j]!] = f));
        }),
      );
      return fresh;
    },
    list(userId: string, query: InboxQuery): Promise<InboxPage> {
      return shard(userId).list(userId, query);
    },
    readAfter(userId: string, lastEventId: string, limit: number, afterSeq?: number) {
      return shard(userId).readAfter(userId, lastEventId, limit, afterSeq);
    },
    async purge(beforeMs: number): Promise<number> {
      let total = 0;
      for (const s of shards) total += await s.purge(beforeMs);
      return total;
    },
    async close(): Promise<void> {
      await Promise.all(shards.map((s) => s.close()));
    },
  };
}
