import { describe, expect, it } from 'vitest';
import { murmur2, murmur2String, partitionFor } from '../../../log/murmur2.ts';

// Kafka's clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
const KAFKA_VECTORS: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

describe('murmur2', () => {
  it.each(KAFKA_VECTORS)('murmur2(%j) matches Kafka UtilsTest', (input, expected) => {
    expect(murmur2(new TextEncoder().encode(input))).toBe(expected);
    expect(murmur2String(input)).toBe(expected);
  });

  it('hashes only the first `length` bytes', () => {
    const bytes = new TextEncoder().encode('foobarXYZ');
    expect(murmur2(bytes, 6)).toBe(-790332482);
  });

  it('grows its scratch buffer for long and multi-byte keys', () => {
    const long = 'é'.repeat(1000) + '🙂';
    expect(murmur2String(long)).toBe(murmur2(new TextEncoder().encode(long)));
    expect(murmur2String('abc')).toBe(479470107);
  });
});

describe('partitionFor', () => {
  it('is toPositive(murmur2) % partitions', () => {
    for (const [key, hash] of KAFKA_VECTORS) {
      for (const n of [1, 3, 12, 50]) expect(partitionFor(key, n)).toBe((hash & 0x7fffffff) % n);
    }
    // -790332482 & 0x7fffffff = 1357151166; % 50 = 16
    expect(partitionFor('foobar', 50)).toBe(16);
  });

  it('treats bytes and strings alike and sends a null key to partition 0', () => {
    expect(partitionFor(new TextEncoder().encode('abc'), 7)).toBe(partitionFor('abc', 7));
    expect(partitionFor(null, 7)).toBe(0);
  });
});
