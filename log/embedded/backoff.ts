/**
 * Retry delay for a rejected batch: exponential backoff with "equal jitter"
 * (Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015):
 * half of the capped exponential delay is fixed, the other half random, so retries of many
 * partitions spread out but never come back immediately.
 *
 * @param attempt 1 for the first retry, 2 for the second, ...
 * @param initialMs delay before jitter of the first retry, ms
 * @param maxMs cap of the delay, ms
 * @param random source of [0, 1) numbers (tests pass a fixed one)
 * @returns delay in ms, in [cap/2, cap] where cap = min(maxMs, initialMs * 2^(attempt-1))
 */
export function retryDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
