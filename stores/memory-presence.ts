/**
 * PresenceStore in process memory: the embedded profile's (one edge), and the reference the
 * Redis store's contract is checked against.
 */
import type { PresenceStore } from './types.ts';

/** See {@link PresenceStore}. `now` is the clock, ms since the epoch. */
export class MemoryPresenceStore implements PresenceStore {
  readonly #until = new Map<string, Map<string, number>>(); // user → edge → expires at (ms)
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async online(userIds: readonly string[], edge: string, leaseMs: number): Promise<void> {
    const until = this.#now() + leaseMs;
    for (const u of userIds) {
      let edges = this.#until.get(u);
      if (!edges) this.#until.set(u, (edges = new Map()));
      edges.set(edge, until);
    }
  }

  async offline(userId: string, edge: string, graceMs: number): Promise<void> {
    const edges = this.#until.get(userId);
    if (edges?.has(edge)) edges.set(edge, this.#now() + graceMs);
  }

  async onlineOf(userIds: readonly string[]): Promise<Set<string>> {
    const now = this.#now();
    const out = new Set<string>();
    for (const u of userIds) {
      const edges = this.#until.get(u);
      if (!edges) continue;
      for (const [edge, until] of edges) if (until <= now) edges.delete(edge);
      if (edges.size > 0) out.add(u);
      else this.#until.delete(u);
    }
    return out;
  }

  async close(): Promise<void> {
    this.#until.clear();
  }
}
