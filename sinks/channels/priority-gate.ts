/**
 * Lets critical sends of a channel go ahead of bulk ones in one process: the critical stage runs
 * each batch inside {@link PriorityGate.run}; the bulk stage's worker awaits
 * {@link PriorityGate.idle} before taking a provider budget for each send, so while critical work
 * is in progress the provider's budget goes to it. (Sends already in flight finish; across
 * processes each process yields to its own critical work.)
 */
export class PriorityGate {
  #active = 0;
  #waiters: (() => void)[] = [];

  /** Runs `fn` as critical work: {@link idle} waits until every such run has settled. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.#active++;
    try {
      return await fn();
    } finally {
      if (--this.#active === 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** Resolves at once when no critical work runs, else when the last one settles. */
  idle(): Promise<void> {
    return this.#active === 0 ? Promise.resolve() : new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Whether critical work is running. */
  get busy(): boolean {
    return this.#active > 0;
  }
}
