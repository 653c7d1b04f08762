/**
 * Partition assignment of a consumer group (pure functions).
 *
 * - 'range' (Kafka's RangeAssignor): per topic, members subscribed to it in join order; member i
 *   gets a consecutive range of floor(P/M) partitions, the first P%M members one more.
 * - 'round-robin' (Kafka's RoundRobinAssignor): every topic-partition in (topic, partition)
 *   order dealt to the subscribed members in turn.
 */
import type { AssignmentStrategy } from './types.ts';

/** A member as the assignor sees it. */
export interface AssignorMember {
  id: string;
  topics: readonly string[];
}

/** Key of a topic-partition in maps and sets: `<topic>\u0000<partition>`. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Computes the target assignment.
 * @param members in join order
 * @param partitionCounts partition count per topic
 * @returns member id → set of tpKey
 */
export function assignPartitions(
  strategy: AssignmentStrategy,
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of members) out.set(m.id, new Set());
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  if (strategy === 'range') {
    for (const topic of topics) {
      const subs = members.filter((m) => m.topics.includes(topic));
      const p = partitionCounts.get(topic) ?? 0;
      const base = Math.floor(p / subs.length);
      const extra = p % subs.length;
      let next = 0;
      subs.forEach((m, i) => {
        const n = base + (i < extra ? 1 : 0);
        for (let k = 0; k < n; k++) out.get(m.id)!.add(tpKey(topic, next++));
      });
    }
    return out;
  }
  let turn = 0;
  for (const topic of topics) {
    const p = partitionCounts.get(topic) ?? 0;
    for (let partition = 0; partition < p; partition++) {
      // Next member in the global rotation that subscribes to this topic.
      for (let tries = 0; tries < members.length; tries++) {
        const m = members[turn++ % members.length]!;
        if (m.topics.includes(topic)) {
          out.get(m.id)!.add(tpKey(topic, partition));
          break;
        }
      }
    }
  }
  return out;
}
