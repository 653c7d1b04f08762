/**
 * Retry delays of channel sends: exponential backoff with full jitter ("Exponential Backoff And
 * Jitter", AWS Architecture Blog, 2015): attempt n waits a uniformly random time in
 * [0, min(maxMs, baseMs · 2^(n−1))), so retries of many messages that failed together (a provider
 * outage) spread out instead of hitting the provider in waves. A provider's Retry-After is a
 * floor: the delay is never shorter than what the provider asked for.
 */

/** Backoff settings, ms. */
export interface BackoffOptions {
  /** Cap of the first retry's delay, ms. */
  baseMs: number;
  /** Cap of any delay, ms. */
  maxMs: number;
}

/**
 * Defaults: 2 s, doubling, at most 10 min. With the default 12 attempts, the 11 retries span up
 * to 37 min (about 18 min on average with full jitter), so a provider outage of minutes (a relay
 * restart, a deploy) ends in sends, not in the DLQ.
 */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, maxMs: 600_000 };

/**
 * The delay before retry number `attempt` (1 = the first retry), ms.
 * @param afterMs the provider's Retry-After, ms, if it gave one
 * @param random a uniform [0, 1) source (Math.random; tests pass a fixed one)
 * @throws RangeError when attempt is not an integer ≥ 1
 */
export function retryDelayMs(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF, afterMs?: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be an integer ≥ 1, got ${attempt}`);
  const cap = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt - 1, 52));
  const jittered = Math.floor(random() * cap);
  return Math.max(jittered, afterMs ?? 0);
}
