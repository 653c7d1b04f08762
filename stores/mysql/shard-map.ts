/**
 * The shard map of the subscription store: topic_id → one of N MySQL shards, by Kafka's murmur2
 * (the same hash that places topics on publish-log partitions). The one place that decides where a
 * topic's subscriptions live.
 *
 * Splitting later (docs/decisions.md): the map is `hash % N` over a list that only grows by
 * doubling; going from N to 2N moves exactly the topics whose hash % 2N ≥ N, each to shard
 * (hash % 2N), so a split copies half of every shard to its new sibling and flips the list.
 */
import { partitionFor } from '../../log/murmur2.ts';

/** Index of the shard holding `topicId`'s subscriptions, in [0, shards). */
export function shardOf(topicId: string, shards: number): number {
  return shards === 1 ? 0 : partitionFor(topicId, shards);
}

/** Groups topic ids by shard index (each id once). */
export function groupByShard(topicIds: readonly string[], shards: number): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const id of new Set(topicIds)) {
    const s = shardOf(id, shards);
    const list = out.get(s);
    if (list) list.push(id);
    else out.set(s, [id]);
  }
  return out;
}
