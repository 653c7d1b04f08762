import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../sinks/channels/backoff.ts';

describe('retry backoff (exponential, full jitter)', () => {
  const o = { baseMs: 1_000, maxMs: 60_000 };
  it('caps grow 1 s, 2 s, 4 s … up to the maximum; the delay is random below the cap', () => {
    const atTop = (attempt: number) => retryDelayMs(attempt, o, undefined, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(atTop)).toEqual([999, 1_999, 3_999, 7_999, 15_999, 31_999, 59_999, 59_999]);
    expect(retryDelayMs(3, o, undefined, () => 0)).toBe(0);
    expect(retryDelayMs(3, o, undefined, () => 0.5)).toBe(2_000);
  });
  it('never waits less than the provider\'s Retry-After', () => {
    expect(retryDelayMs(1, o, 5_000, () => 0.5)).toBe(5_000);
    expect(retryDelayMs(8, o, 5_000, () => 0.5)).toBe(30_000);
  });
  it('spreads retries of messages that failed together', () => {
    const delays = Array.from({ length: 1_000 }, () => retryDelayMs(5, o));
    expect(Math.min(...delays)).toBeLessThan(2_000);
    expect(Math.max(...delays)).toBeGreaterThan(14_000);
    expect(new Set(delays).size).toBeGreaterThan(500);
  });
  it('huge attempt numbers stay at the cap; bad attempts are refused', () => {
    expect(retryDelayMs(10_000, o, undefined, () => 0.999999)).toBe(59_999);
    expect(() => retryDelayMs(0, o)).toThrow(RangeError);
  });
});
