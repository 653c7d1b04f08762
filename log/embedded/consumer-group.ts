/**
 * The in-process group coordinator of one consumer group: membership, assignment and
 * cooperative rebalancing, plus the group's committed offsets.
 *
 * A rebalance (on join and leave, serialized) computes the target assignment, first revokes from
 * every member only the partitions that move (each member stops those runners after their
 * in-flight batch committed, then calls onRevoked), then assigns them to their new owners
 * (onAssigned, then fetching from the committed offset). A partition is therefore never fetched by
 * two members at once, and a record committed by its old owner is not handed to the new one.
 */
import type { Logger } from '../../core/logger.ts';
import { assignPartitions } from './assignment.ts';
import type { OffsetStore } from './offset-store.ts';
import type { AssignmentStrategy } from './types.ts';

/** What the coordinator needs from a member. */
export interface GroupMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  /** tpKeys currently owned. */
  owned(): ReadonlySet<string>;
  /** Stops fetching `keys`, waits for in-flight batches, calls onRevoked. Never rejects. */
  revoke(keys: string[]): Promise<void>;
  /** Calls onAssigned, starts fetching `keys`. Never rejects. */
  assign(keys: string[]): Promise<void>;
}

/** One consumer group inside one transport. */
export class ConsumerGroup {
  readonly groupId: string;
  readonly offsets: OffsetStore;
  readonly #members: GroupMember[] = [];
  readonly #strategy: AssignmentStrategy;
  readonly #partitionCount: (topic: string) => number;
  readonly #log: Logger;
  #chain: Promise<void> = Promise.resolve();

  constructor(groupId: string, offsets: OffsetStore, strategy: AssignmentStrategy, partitionCount: (topic: string) => number, log: Logger) {
    this.groupId = groupId;
    this.offsets = offsets;
    this.#strategy = strategy;
    this.#partitionCount = partitionCount;
    this.#log = log;
  }

  /** Members in join order. */
  get members(): readonly GroupMember[] {
    return this.#members;
  }

  /** Adds a member; resolves when the rebalance it caused finished. */
  join(member: GroupMember): Promise<void> {
    this.#members.push(member);
    return this.#rebalance(null);
  }

  /** Removes a member; resolves when its partitions were revoked and handed to the others. */
  leave(member: GroupMember): Promise<void> {
    const i = this.#members.indexOf(member);
    if (i < 0) return this.#chain;
    this.#members.splice(i, 1);
    return this.#rebalance(member);
  }

  #rebalance(departing: GroupMember | null): Promise<void> {
    const next = this.#chain.then(() => this.#doRebalance(departing));
    this.#chain = next.catch((err: unknown) => {
      this.#log.error({ err, groupId: this.groupId }, 'rebalance failed');
    });
    return this.#chain;
  }

  async #doRebalance(departing: GroupMember | null): Promise<void> {
    const members = [...this.#members];
    const counts = new Map<string, number>();
    for (const m of members) for (const t of m.topics) counts.set(t, this.#partitionCount(t));
    const target = assignPartitions(this.#strategy, members.map((m) => ({ id: m.memberId, topics: m.topics })), counts);
    const revokes: Promise<void>[] = [];
    for (const m of members) {
      const want = target.get(m.memberId)!;
      const gone = [...m.owned()].filter((k) => !want.has(k));
      if (gone.length > 0) revokes.push(m.revoke(gone));
    }
    if (departing !== null) revokes.push(departing.revoke([...departing.owned()]));
    await Promise.all(revokes);
    // A member that left meanwhile is not in #members any more: do not give it partitions.
    const stillIn = members.filter((m) => this.#members.includes(m));
    await Promise.all(
      stillIn.map((m) => {
        const owned = m.owned();
        const added = [...target.get(m.memberId)!].filter((k) => !owned.has(k));
        return added.length > 0 ? m.assign(added) : Promise.resolve();
      }),
    );
    this.#log.debug({ groupId: this.groupId, members: stillIn.map((m) => m.memberId) }, 'rebalanced');
  }

  /** Resolves when every rebalance queued so far finished. */
  settled(): Promise<void> {
    return this.#chain;
  }
}
