/**
 * The router's in-memory map of user-log partition → owning edge, refreshed from the ownership
 * store (Redis on the kafka profile) with one read of every partition per refresh.
 *
 * - A user belongs to partition `partitionFor(user_id, partitions)` (Kafka's murmur2, the same
 *   function the user-repartition operator and the edges use), so the router sends a user where
 *   the edge stage delivers that user's notifications.
 * - The map is refreshed every `refreshMs` and on demand (a partition without an owner, an edge
 *   that answered 307 or could not be reached); concurrent refreshes share one read, and an
 *   on-demand refresh within `minRefreshGapMs` of the last one reuses it, so many clients retrying
 *   an unowned partition cost one read.
 * - A failed refresh keeps the last map (the edges still redirect or refuse a request sent to an
 *   edge that no longer owns the partition); the map's age says how stale it is.
 * - Requests without a user go to the distinct owners in turn (round-robin), skipping an edge
 *   that could not be reached for `downMs` (its claims can outlive it by up to one lease).
 */
import { partitionFor } from '../log/murmur2.ts';

/** Reads every partition's owner: index = partition, value = the edge URL or null (unclaimed). */
export type OwnerSource = () => Promise<readonly (string | null)[]>;

/** Options of {@link OwnerMap}. */
export interface OwnerMapOptions {
  /** Partition count of the user log (the topology's edge stage source), >= 1. */
  partitions: number;
  /** Where owners come from (Redis: RedisOwnershipStore.ownersOf). */
  load: OwnerSource;
  /** Interval of the periodic refresh, ms. Default 1000. */
  refreshMs?: number;
  /** An on-demand refresh sooner than this after the last read reuses it, ms. Default 250. */
  minRefreshGapMs?: number;
  /** How long an unreachable edge is left out of the round-robin, ms. Default 2000. */
  downMs?: number;
  /** Called after each read with its duration (s) and its error, if it failed. */
  onRefresh?: (seconds: number, err: unknown) => void;
  /** Clock, ms (tests). Default Date.now. */
  now?: () => number;
}

/** What {@link OwnerMap.stats} reports (GET /healthz of the router, gauges). */
export interface OwnerMapStats {
  /** Distinct edges owning at least one partition. */
  owners: number;
  /** Partitions no edge has claimed. */
  unownedPartitions: number;
  /** Time since the last successful read, ms (null before the first). */
  ageMs: number | null;
}

/** See the module comment. */
export class OwnerMap {
  /** Partition count of the user log. */
  readonly partitions: number;
  readonly #o: Required<Omit<OwnerMapOptions, 'onRefresh'>> & Pick<OwnerMapOptions, 'onRefresh'>;
  #owners: (string | null)[];
  /** Distinct owners, sorted (stable round-robin order). */
  #distinct: string[] = [];
  #next = 0;
  /** Edge URL → until when (ms) it is skipped by the round-robin. */
  readonly #down = new Map<string, number>();
  #inFlight: Promise<void> | null = null;
  /** When the last read started, ms (0: never). */
  #lastReadAt = 0;
  /** When the last successful read finished, ms (null: never). */
  #loadedAt: number | null = null;
  #timer: NodeJS.Timeout | null = null;

  /** @throws RangeError when `partitions` is not an integer >= 1 */
  constructor(o: OwnerMapOptions) {
    if (!Number.isInteger(o.partitions) || o.partitions < 1) throw new RangeError(`partitions must be an integer >= 1, got ${o.partitions}`);
    this.partitions = o.partitions;
    this.#o = { refreshMs: 1000, minRefreshGapMs: 250, downMs: 2000, now: Date.now, ...o };
    this.#owners = new Array<string | null>(o.partitions).fill(null);
  }

  /** Reads the owners once (waits for it), then refreshes every `refreshMs` until {@link stop}. */
  async start(): Promise<void> {
    await this.refresh(0);
    this.#timer ??= setInterval(() => void this.refresh(0), this.#o.refreshMs);
    this.#timer.unref();
  }

  /** Stops the periodic refresh. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * Reads the owners again unless a read started less than `minGapMs` ago (then that read is
   * reused). Never rejects: a failed read keeps the previous map and is reported to `onRefresh`.
   * @param minGapMs default `minRefreshGapMs`; 0 = read now (or join the read in flight)
   */
  refresh(minGapMs: number = this.#o.minRefreshGapMs): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    if (minGapMs > 0 && this.#o.now() - this.#lastReadAt < minGapMs) return Promise.resolve();
    this.#lastReadAt = this.#o.now();
    const started = process.hrtime.bigint();
    const read = async (): Promise<void> => {
      let error: unknown;
      try {
        this.#apply(await this.#o.load());
      } catch (err) {
        error = err;
      }
      this.#o.onRefresh?.(Number(process.hrtime.bigint() - started) / 1e9, error);
    };
    const p: Promise<void> = read()
      .catch(() => {}) // onRefresh threw: nothing to undo
      .finally(() => {
        if (this.#inFlight === p) this.#inFlight = null;
      });
    this.#inFlight = p;
    return p;
  }

  #apply(owners: readonly (string | null)[]): void {
    if (owners.length !== this.partitions) throw new RangeError(`the ownership store returned ${owners.length} partitions, expected ${this.partitions}`);
    this.#owners = owners.map((o) => (o === '' ? null : o));
    this.#distinct = [...new Set(this.#owners.filter((o): o is string => o !== null))].sort();
    this.#loadedAt = this.#o.now();
  }

  /** The user's partition of the user log: `partitionFor(userId, partitions)`. */
  partitionOf(userId: string): number {
    return partitionFor(userId, this.partitions);
  }

  /** The edge owning `userId`'s partition per the current map, or null (unowned). No I/O. */
  ownerOf(userId: string): string | null {
    return this.#owners[this.partitionOf(userId)] ?? null;
  }

  /**
   * The edge owning `userId`'s partition; when the map has none, refreshes it first (at most one
   * read per `minRefreshGapMs`).
   * @returns the edge URL, or null while no edge owns the partition (e.g. during a rebalance)
   */
  async resolve(userId: string): Promise<string | null> {
    const owner = this.ownerOf(userId);
    if (owner !== null) return owner;
    await this.refresh();
    return this.ownerOf(userId);
  }

  /**
   * The next live edge for a request without a user: the distinct owners in turn, skipping those
   * marked down (unless every one is); when the map knows no edge, refreshes it first.
   * @returns an edge URL, or null when no edge owns any partition
   */
  async anyOwner(): Promise<string | null> {
    if (this.#distinct.length === 0) await this.refresh();
    const all = this.#distinct;
    if (all.length === 0) return null;
    const now = this.#o.now();
    for (let i = 0; i < all.length; i++) {
      const candidate = all[this.#next++ % all.length]!;
      if ((this.#down.get(candidate) ?? 0) <= now) return candidate;
    }
    return all[this.#next++ % all.length]!;
  }

  /**
   * Leaves `edge` out of the round-robin for `downMs` (it refused or dropped a connection).
   * @returns true when it was not marked down already (worth a log line)
   */
  markDown(edge: string): boolean {
    const now = this.#o.now();
    for (const [e, until] of this.#down) if (until <= now) this.#down.delete(e);
    const fresh = !this.#down.has(edge);
    this.#down.set(edge, now + this.#o.downMs);
    return fresh;
  }

  /** Owner count, unowned partitions and the map's age. */
  stats(): OwnerMapStats {
    return {
      owners: this.#distinct.length,
      unownedPartitions: this.#owners.reduce((n, o) => (o === null ? n + 1 : n), 0),
      ageMs: this.#loadedAt === null ? null : this.#o.now() - this.#loadedAt,
    };
  }
}
