/**
 * Kafka's murmur2 hash and default keyed-record partitioner, so one key lands on the same
 * partition number in the embedded log and in Apache Kafka.
 *
 * Algorithm: MurmurHash2 (Austin Appleby, public domain) as implemented by the Java client's
 * `org.apache.kafka.common.utils.Utils.murmur2` (seed 0x9747b28c, m = 0x5bd1e995, r = 24, blocks
 * read little endian, result a signed 32-bit int), and `BuiltInPartitioner.partitionForKey`:
 * `toPositive(murmur2(keyBytes)) % numPartitions` with `toPositive(n) = n & 0x7fffffff`.
 * Verified against Kafka's `UtilsTest.testMurmur2` vectors (test/unit/log/murmur2.test.ts).
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

const textEncoder = new TextEncoder();
/** Reused scratch buffer for string keys: no allocation per call once it is large enough. */
let scratch = new Uint8Array(256);

/**
 * Kafka's murmur2 over `data[0, length)`.
 * @param data the bytes to hash
 * @param length number of bytes to hash from the start of `data` (default: all of it)
 * @returns the hash as a signed 32-bit integer, exactly like the Java client's `Utils.murmur2`
 */
export function murmur2(data: Uint8Array, length: number = data.length): number {
  let h = (SEED ^ length) | 0;
  const blocksEnd = length & ~3;
  for (let i = 0; i < blocksEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[blocksEnd + 2]! << 16;
  if (rest >= 2) h ^= data[blocksEnd + 1]! << 8;
  if (rest >= 1) {
    h ^= data[blocksEnd]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's murmur2 over the UTF-8 bytes of `key`, encoded into a reused module buffer
 * (no allocation per call unless the key is longer than any seen before).
 * @returns signed 32-bit hash
 */
export function murmur2String(key: string): number {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (key.length * 3 > scratch.length) scratch = new Uint8Array(Math.max(key.length * 3, scratch.length * 2));
  const { written } = textEncoder.encodeInto(key, scratch);
  return murmur2(scratch, written);
}

/**
 * The partition of a keyed record, as Kafka's default partitioner computes it:
 * `(murmur2(utf8(key)) & 0x7fffffff) % partitions`.
 *
 * A null key goes to partition 0 here (Kafka's client would pick a "sticky" partition at random;
 * Herald always keys the records it cares about, and a fixed choice keeps the embedded log
 * deterministic).
 * @param key the key as a string (hashed as UTF-8) or bytes, or null
 * @param partitions partition count of the log topic (an integer >= 1)
 * @returns a partition number in [0, partitions)
 */
export function partitionFor(key: string | Uint8Array | null, partitions: number): number {
  if (key === null) return 0;
  const h = typeof key === 'string' ? murmur2String(key) : murmur2(key);
  return (h & 0x7fffffff) % partitions;
}
