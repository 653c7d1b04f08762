/**
 * Per-partition state of the bloom-dedup operator: one {@link WindowedBloomFilter} buffer per
 * source partition. The runtime creates it on partition assignment and refills it from the
 * exact DedupStore (`keysSince(partition, bloomRestoreSinceMs(options, now))`), so a restarted
 * or rebalanced instance remembers what the previous owner fanned out.
 */
import { HeraldError } from '../../core/errors.ts';
import type { BloomDedupOptions } from './options.ts';
import { WindowedBloomFilter, type WindowedBloomOptions } from './windowed-bloom-filter.ts';

/** The windowed filter shape of validated bloom-dedup options. */
export function windowedOptionsOf(options: BloomDedupOptions): WindowedBloomOptions {
  return {
    windowMs: options.window_ms,
    windows: options.windows,
    expectedKeysPerWindow: options.expected_keys_per_window,
    falsePositiveRate: options.false_positive_rate,
  };
}

/**
 * A new empty state buffer for one partition: W × m bits plus a small header
 * (with the defaults: 6 × 1.44 Mbit ≈ 1.08 MB).
 * @throws HeraldError HERALD_CONFIG_INVALID when the options give an impossible size
 */
export function createBloomState(options: BloomDedupOptions): SharedArrayBuffer {
  return WindowedBloomFilter.create(windowedOptionsOf(options)).buffer;
}

/** Oldest confirmation time worth restoring, ms since the epoch: one full horizon (W × window_ms) back. */
export function bloomRestoreSinceMs(options: BloomDedupOptions, nowMs: number): number {
  return nowMs - options.windows * options.window_ms;
}

/**
 * Empties `sab` and replays confirmed keys into it in time order, so each lands in the window it
 * would have been in, then advances the clock to `nowMs`.
 * @param keys dedup keys with their confirmation time (ms), oldest first, as DedupStore.keysSince returns them
 * @throws HeraldError HERALD_OPERATOR_FAILED when `sab` is not a state buffer of these options
 */
export function restoreBloomState(sab: SharedArrayBuffer, options: BloomDedupOptions, keys: readonly { key: string; at: number }[], nowMs: number): void {
  const filter = new WindowedBloomFilter(sab);
  if (!filter.matches(windowedOptionsOf(options))) {
    throw new HeraldError('HERALD_OPERATOR_FAILED', 'bloom-dedup: the state buffer was sized from other options; create a new one');
  }
  filter.clear();
  for (const { key, at } of keys) {
    filter.advanceTo(at);
    filter.testAndAdd(key);
  }
  filter.advanceTo(nowMs);
}
