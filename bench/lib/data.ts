/** Deterministic data for the store benchmarks (bench/stores.bench.ts and its network parts). */

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit linear congruential generator). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A UUIDv7-shaped id carrying `ms` (ms since the epoch), unique by `n`. */
export function uuidV7(ms: number, n: number): string {
  const t = ms.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8)}-7${(n >>> 20).toString(16).padStart(3, '0').slice(-3)}-8${((n >>> 8) & 0xfff).toString(16).padStart(3, '0')}-${n.toString(16).padStart(12, '0')}`;
}
