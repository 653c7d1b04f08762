import { describe, expect, it } from 'vitest';
import { BloomFilter } from '../../../operators/bloom-dedup/bloom-filter.ts';
import { hashPair } from '../../../operators/bloom-dedup/hash.ts';
import { bloomSize, expectedFalsePositiveRate } from '../../../operators/bloom-dedup/sizing.ts';
import { isHeraldError } from '../../../core/errors.ts';

describe('bloomSize (Bloom 1970: m = -n ln p / (ln 2)^2, k = round(m/n ln 2))', () => {
  it('matches the closed forms', () => {
    const { bits, hashes } = bloomSize(100_000, 0.001);
    const exact = (-100_000 * Math.log(0.001)) / Math.LN2 ** 2;
    expect(bits).toBe(Math.ceil(exact / 32) * 32);
    expect(bits / 100_000).toBeCloseTo(14.38, 1);
    expect(hashes).toBe(10);
    expect(bloomSize(1000, 0.01).hashes).toBe(7);
    expect(bloomSize(1, 0.5).hashes).toBeGreaterThanOrEqual(1);
  });
  it('rejects impossible sizes', () => {
    for (const [n, p] of [[0, 0.01], [10, 0], [10, 1], [1.5, 0.1], [1e12, 1e-9]] as const) {
      expect(() => bloomSize(n, p)).toThrowError(expect.objectContaining({ code: 'HERALD_CONFIG_INVALID' }));
    }
  });
});

describe('hashPair (two 32-bit hashes, one pass over UTF-16)', () => {
  it('is deterministic, unsigned and covers odd lengths and non-ASCII', () => {
    const a = new Uint32Array(2);
    const b = new Uint32Array(2);
    for (const key of ['', 'a', 'ab', 'abc', 'topic\u0000key', 'ünïcødé 😀']) {
      hashPair(key, a);
      hashPair(key, b);
      expect([...a]).toEqual([...b]);
      expect(a[0]).not.toBe(a[1]);
    }
    hashPair('ab', a);
    hashPair('ba', b);
    expect(a[0]).not.toBe(b[0]);
  });
  it('spreads: each of 32 bits of h1 and h2 is set about half the time, h1 and h2 uncorrelated', () => {
    const out = new Uint32Array(2);
    const ones1 = new Array<number>(32).fill(0);
    const ones2 = new Array<number>(32).fill(0);
    let same = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      hashPair(`topic-${i % 100}\u0000key-${i}`, out);
      for (let b = 0; b < 32; b++) {
        if ((out[0]! >>> b) & 1) ones1[b]!++;
        if ((out[1]! >>> b) & 1) ones2[b]!++;
      }
      if ((out[0]! & 1023) === (out[1]! & 1023)) same++;
    }
    for (let b = 0; b < 32; b++) {
      expect(Math.abs(ones1[b]! / n - 0.5)).toBeLessThan(0.02);
      expect(Math.abs(ones2[b]! / n - 0.5)).toBeLessThan(0.02);
    }
    expect(same / n).toBeLessThan(3 / 1024);
  });
  it('double hashing spreads keys evenly over the bit array', () => {
    const f = BloomFilter.create(10_000, 0.01);
    for (let i = 0; i < 10_000; i++) f.testAndAdd(`k${i}`);
    // Expected fill of an optimally sized filter at capacity is 1/2.
    expect(f.fill()).toBeGreaterThan(0.47);
    expect(f.fill()).toBeLessThan(0.53);
  });
});

describe('BloomFilter', () => {
  it('has no false negatives, ever', () => {
    const f = BloomFilter.create(50_000, 0.001);
    for (let i = 0; i < 50_000; i++) f.testAndAdd(`topic-${i % 37}\u0000${i}`);
    let misses = 0;
    for (let i = 0; i < 50_000; i++) if (!f.has(`topic-${i % 37}\u0000${i}`)) misses++;
    expect(misses).toBe(0);
  });
  it('measures a false-positive rate near the target at n keys', () => {
    const n = 100_000;
    const p = 0.001;
    const f = BloomFilter.create(n, p);
    for (let i = 0; i < n; i++) f.testAndAdd(`in:${i}`);
    let fp = 0;
    const probes = 400_000;
    for (let i = 0; i < probes; i++) if (f.has(`out:${i}`)) fp++;
    const rate = fp / probes;
    expect(rate).toBeGreaterThan(p / 2);
    expect(rate).toBeLessThan(p * 1.6);
    expect(expectedFalsePositiveRate(f.bits, f.hashes, n)).toBeLessThan(p * 1.05);
    expect(f.bits / n).toBeLessThan(15);
  });
  it('testAndAdd reports positives, counts new keys and clears', () => {
    const f = BloomFilter.create(100, 0.01);
    expect(f.testAndAdd('x')).toBe(false);
    expect(f.testAndAdd('x')).toBe(true);
    expect(f.count).toBe(1);
    f.clear();
    expect(f.has('x')).toBe(false);
    expect(f.count).toBe(0);
  });
  it('works on a buffer shared from elsewhere and rejects foreign buffers', () => {
    const f = BloomFilter.create(100, 0.01);
    f.testAndAdd('shared');
    expect(new BloomFilter(f.buffer).has('shared')).toBe(true);
    try {
      new BloomFilter(new SharedArrayBuffer(128));
      expect.unreachable();
    } catch (err) {
      expect(isHeraldError(err, 'HERALD_OPERATOR_FAILED')).toBe(true);
    }
  });
});
