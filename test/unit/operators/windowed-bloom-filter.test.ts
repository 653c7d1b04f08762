import { describe, expect, it } from 'vitest';
import { WindowedBloomFilter, type WindowedBloomOptions } from '../../../operators/bloom-dedup/windowed-bloom-filter.ts';
import { bloomSize } from '../../../operators/bloom-dedup/sizing.ts';

const T0 = 1_700_000_000_000;
const OPTIONS: WindowedBloomOptions = { windowMs: 1_000, windows: 3, expectedKeysPerWindow: 1_000, falsePositiveRate: 0.001 };

describe('WindowedBloomFilter', () => {
  it('rotates by time: a key is remembered for W windows, then forgotten', () => {
    const f = WindowedBloomFilter.create(OPTIONS);
    f.advanceTo(T0);
    expect(f.testAndAdd('a')).toBe(false);
    f.advanceTo(T0 + 1_000);
    expect(f.currentWindow).toBe(1);
    expect(f.has('a')).toBe(true);
    f.advanceTo(T0 + 2_999);
    expect(f.currentWindow).toBe(2);
    expect(f.has('a')).toBe(true);
    f.advanceTo(T0 + 3_000); // window 0 (holding 'a') is reused and cleared
    expect(f.currentWindow).toBe(0);
    expect(f.has('a')).toBe(false);
    expect(f.windowStartMs).toBe(T0 + 3_000);
  });
  it('clears every window after W or more elapsed windows, and ignores a clock going back', () => {
    const f = WindowedBloomFilter.create(OPTIONS);
    f.advanceTo(T0);
    f.testAndAdd('a');
    f.advanceTo(T0 - 5_000);
    expect(f.has('a')).toBe(true);
    f.advanceTo(T0 + 60_000);
    expect(f.has('a')).toBe(false);
    expect(f.count).toBe(0);
  });
  it('rotates by count: a full window becomes old before it passes its sizing', () => {
    const f = WindowedBloomFilter.create(OPTIONS);
    f.advanceTo(T0);
    // A key that tests positive in the current window (a rare false positive) adds no count.
    let i = 0;
    for (; f.counts()[0]! < 1_000; i++) f.testAndAdd(`k${i}`);
    expect(i).toBeLessThan(1_005);
    expect(f.currentWindow).toBe(0);
    const firstWindowKeys = i;
    f.testAndAdd(`k${i++}`);
    expect(f.currentWindow).toBe(1);
    expect(f.counts()).toEqual([1_000, 1, 0]);
    for (let j = 0; j < i; j++) expect(f.has(`k${j}`)).toBe(true);
    for (; f.currentWindow !== 0; i++) f.testAndAdd(`k${i}`);
    // Wrapped after two more windows of keys: window 0 was cleared, its keys are gone.
    expect(i).toBeGreaterThanOrEqual(firstWindowKeys + 2_001);
    expect(i).toBeLessThan(firstWindowKeys + 2_010);
    expect(f.has('k5')).toBe(false);
    expect(f.has(`k${i - 1}`)).toBe(true);
    expect(f.has(`k${firstWindowKeys + 1_500}`)).toBe(true);
  });
  it('keeps memory fixed at W × m bits whatever the key count, and fill per window bounded', () => {
    const f = WindowedBloomFilter.create(OPTIONS);
    const bytes = f.bytes;
    const { bits } = bloomSize(1_000, 0.001);
    expect(bytes).toBe(128 + (3 * bits) / 8);
    f.advanceTo(T0);
    for (let i = 0; i < 50_000; i++) f.testAndAdd(`k${i}`);
    expect(f.bytes).toBe(bytes);
    expect(f.buffer.byteLength).toBe(bytes);
    for (const fill of f.fill()) expect(fill).toBeLessThan(0.52);
  });
  it('bounds the false-positive rate of a test over W full windows by about W·p', () => {
    const f = WindowedBloomFilter.create({ ...OPTIONS, expectedKeysPerWindow: 20_000 });
    f.advanceTo(T0);
    for (let i = 0; i < 60_000; i++) f.testAndAdd(`in${i}`);
    let fp = 0;
    for (let i = 0; i < 100_000; i++) if (f.has(`out${i}`)) fp++;
    expect(fp / 100_000).toBeLessThan(3 * 0.001 * 1.5);
  });
  it('has no false negatives within the horizon', () => {
    const f = WindowedBloomFilter.create({ ...OPTIONS, expectedKeysPerWindow: 5_000 });
    f.advanceTo(T0);
    for (let i = 0; i < 10_000; i++) {
      f.advanceTo(T0 + i / 10); // 1000 ms spans 10000 keys: two time rotations at most
      f.testAndAdd(`key-${i}`);
    }
    for (let i = 0; i < 10_000; i++) expect(f.has(`key-${i}`)).toBe(true);
  });
  it('attaches to a shared buffer and knows the options it was sized from', () => {
    const f = WindowedBloomFilter.create(OPTIONS);
    f.advanceTo(T0);
    f.testAndAdd('x');
    const g = new WindowedBloomFilter(f.buffer);
    expect(g.has('x')).toBe(true);
    expect(g.matches(OPTIONS)).toBe(true);
    expect(g.matches({ ...OPTIONS, windows: 4 })).toBe(false);
    expect(() => new WindowedBloomFilter(new SharedArrayBuffer(256))).toThrowError(expect.objectContaining({ code: 'HERALD_OPERATOR_FAILED' }));
  });
});
