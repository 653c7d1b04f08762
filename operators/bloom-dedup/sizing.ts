/**
 * Optimal Bloom filter size for n keys at false-positive rate p (Burton H. Bloom, "Space/Time
 * Trade-offs in Hash Coding with Allowable Errors", CACM 13(7), 1970; the closed forms as in
 * Broder & Mitzenmacher, "Network Applications of Bloom Filters: A Survey", 2004):
 *   m = -n ln p / (ln 2)^2 bits,   k = round(m / n · ln 2) hash positions.
 */
import { HeraldError } from '../../core/errors.ts';

/** Size of one Bloom filter. */
export interface BloomSize {
  /** Bits in the filter (m), rounded up to a multiple of 32. */
  bits: number;
  /** Hash positions per key (k), at least 1. */
  hashes: number;
}

/** Largest bit array one filter may have (2^30 bits = 128 MiB): probe positions stay int32. */
export const MAX_BLOOM_BITS = 2 ** 30;

/**
 * m and k for `n` expected keys at false-positive rate `p`.
 * @param n expected keys, integer ≥ 1
 * @param p target false-positive rate, 0 < p < 1
 * @throws HeraldError HERALD_CONFIG_INVALID when n or p is out of range or m exceeds {@link MAX_BLOOM_BITS}
 */
export function bloomSize(n: number, p: number): BloomSize {
  if (!Number.isInteger(n) || n < 1) throw new HeraldError('HERALD_CONFIG_INVALID', `Bloom filter: expected keys must be an integer ≥ 1, got ${n}`);
  if (!(p > 0 && p < 1)) throw new HeraldError('HERALD_CONFIG_INVALID', `Bloom filter: false-positive rate must be in (0, 1), got ${p}`);
  const exact = (-n * Math.log(p)) / (Math.LN2 * Math.LN2);
  const bits = Math.ceil(exact / 32) * 32;
  if (bits > MAX_BLOOM_BITS) throw new HeraldError('HERALD_CONFIG_INVALID', `Bloom filter: ${bits} bits for ${n} keys at p=${p} exceeds ${MAX_BLOOM_BITS}`);
  const hashes = Math.max(1, Math.round((exact / n) * Math.LN2));
  return { bits, hashes };
}

/** Expected false-positive rate of a filter of `bits` and `hashes` holding `n` keys: (1 - e^(-kn/m))^k. */
export function expectedFalsePositiveRate(bits: number, hashes: number, n: number): number {
  return (1 - Math.exp((-hashes * n) / bits)) ** hashes;
}
