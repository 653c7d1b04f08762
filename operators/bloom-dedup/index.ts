/** The bloom-dedup operator and its windowed Bloom filter (public API of this folder). */
export { BloomDedupOperator, dedupKey } from './bloom-dedup.ts';
export { BloomFilter } from './bloom-filter.ts';
export { WindowedBloomFilter, MAX_WINDOWS, type WindowedBloomOptions } from './windowed-bloom-filter.ts';
export { bloomSize, expectedFalsePositiveRate, MAX_BLOOM_BITS, type BloomSize } from './sizing.ts';
export { hashPair } from './hash.ts';
export { bloomDedupOptions, parseBloomDedupOptions, type BloomDedupOptions } from './options.ts';
export { bloomRestoreSinceMs, createBloomState, restoreBloomState, windowedOptionsOf } from './state.ts';
