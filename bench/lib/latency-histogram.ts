/**
 * A latency histogram with log-spaced buckets (each 1% wider than the one before, from 0.01 ms
 * to 10 minutes), so client processes can record every event cheaply and the parent can merge
 * them exactly: percentiles are read as a bucket's upper bound (at most 1% above the true value).
 */

const LOWEST_MS = 0.01;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const HIGHEST_MS = 600_000;
const BUCKETS = Math.ceil(Math.log(HIGHEST_MS / LOWEST_MS) / LOG_GROWTH) + 1;

/** Serialised form: non-empty buckets as [index, count] pairs, plus exact count/sum/min/max. */
export interface HistogramData {
  buckets: [number, number][];
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
}

/** See the module comment. */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  count = 0;
  sumMs = 0;
  minMs = Infinity;
  maxMs = -Infinity;

  /** Records one latency, ms (values below 0.01 ms land in the first bucket, above 10 min in the last). */
  record(ms: number): void {
    const i = ms <= LOWEST_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / LOWEST_MS) / LOG_GROWTH));
    this.#counts[i]!++;
    this.count++;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Adds another histogram's data (e.g. from a client process). */
  merge(d: HistogramData): void {
    for (const [i, c] of d.buckets) this.#counts[i]! += c;
    this.count += d.count;
    this.sumMs += d.sumMs;
    if (d.count > 0) {
      this.minMs = Math.min(this.minMs, d.minMs);
      this.maxMs = Math.max(this.maxMs, d.maxMs);
    }
  }

  toJSON(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) buckets.push([i, this.#counts[i]!]);
    return { buckets, count: this.count, sumMs: this.sumMs, minMs: this.minMs, maxMs: this.maxMs };
  }

  /** The p-th percentile (nearest rank), ms: the upper bound of its bucket, capped at the max seen; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, LOWEST_MS * GROWTH ** i));
    }
    return this.maxMs;
  }

  get meanMs(): number {
    return this.count === 0 ? Number.NaN : this.sumMs / this.count;
  }
}
