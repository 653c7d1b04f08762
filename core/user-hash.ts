/**
 * The user hash that spreads a large topic's subscribers over fan-out buckets: CRC-32 (ISO-HDLC,
 * the zlib / MySQL `CRC32()` polynomial) of the user_id's bytes, an unsigned 32-bit integer.
 * MySQL computes the same value in a generated column, so the hash never has to be written by
 * Herald there; SQLite stores what {@link userHash} returns.
 *
 * Bucket `b` of `n` covers the hash range [floor(b·2^32/n), floor((b+1)·2^32/n)): contiguous
 * ranges of the subscriptions index (topic_id, user_hash, user_id), so a bucket is read with
 * range scans, never a full scan of the topic.
 */
import { crc32 } from 'node:zlib';

/** Size of the hash space: hashes are 0 … 2^32 − 1. */
export const USER_HASH_SPACE = 2 ** 32;

/** CRC-32 of the UTF-8 bytes of `userId` (equal to MySQL `CRC32(user_id)` for ASCII ids). */
export function userHash(userId: string): number {
  return crc32(userId);
}

/** A half-open range of user hashes [from, to). */
export interface UserHashRange {
  from: number;
  to: number;
}

/**
 * The hash range of bucket `bucket` of `buckets`.
 * @throws RangeError unless 1 ≤ buckets ≤ 65536 and 0 ≤ bucket < buckets (integers)
 */
export function bucketRange(bucket: number, buckets: number): UserHashRange {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 65_536) throw new RangeError(`buckets must be an integer 1..65536, got ${buckets}`);
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= buckets) throw new RangeError(`bucket must be an integer 0..${buckets - 1}, got ${bucket}`);
  return { from: Math.floor((bucket * USER_HASH_SPACE) / buckets), to: Math.floor(((bucket + 1) * USER_HASH_SPACE) / buckets) };
}
