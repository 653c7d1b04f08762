/**
 * Recovery of a segment file on open: walks every entry, checks its size, CRC-32 (as written by
 * `sealEntry`) and offset, and fills the segment's index.
 *
 * - A torn tail of the LAST segment is truncated away, with a warning: the file ends inside an
 *   entry (a crash in the middle of a write), or the last entry's CRC does not match and nothing
 *   but zeros follows it, or the rest of the file is zeros (pages not flushed before a power loss).
 * - Anything else that does not check out (a bad entry followed by more data, a bad entry in an
 *   older segment, an offset out of sequence) throws HERALD_LOG_CORRUPT naming file and byte.
 */
import { crc32 } from 'node:zlib';
import { fstatSync, readSync } from 'node:fs';
import { HeraldError } from '../../core/errors.ts';
import { ENTRY_OVERHEAD_BYTES } from '../record-codec.ts';
import type { Logger } from '../../core/logger.ts';
import type { Segment } from './segment.ts';

const CHUNK_BYTES = 4 * 1024 * 1024; // bytes read per syscall while scanning

/** Outcome of {@link recoverSegment}. */
export interface RecoveryResult {
  /** Bytes cut from the end of the file (0 when it was clean). */
  truncatedBytes: number;
}

function corrupt(seg: Segment, position: number, why: string): HeraldError {
  return new HeraldError('HERALD_LOG_CORRUPT', `log segment ${seg.path} is corrupt at byte ${position}: ${why}`, {
    details: { file: seg.path, position, reason: why },
  });
}

/**
 * Scans `seg` from byte 0, validates every entry and rebuilds its index, `size`, `count` and
 * `maxTimestamp`.
 * @param isLast whether this is the partition's active (newest) segment: only there a torn tail
 *   is expected and truncated
 * @throws HeraldError HERALD_LOG_CORRUPT (file and byte position in message and details)
 */
export function recoverSegment(seg: Segment, isLast: boolean, log: Logger): RecoveryResult {
  const fileSize = fstatSync(seg.fd).size;
  let buf = Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, Math.max(fileSize, ENTRY_OVERHEAD_BYTES)));
  let bufStart = 0;
  let bufLen = 0;
  const load = (from: number, need: number): void => {
    if (need > buf.length) buf = Buffer.allocUnsafeSlow(need);
    const want = Math.min(buf.length, fileSize - from);
    let done = 0;
    while (done < want) {
      const n = readSync(seg.fd, buf, done, want - done, from + done);
      if (n === 0) break;
      done += n;
    }
    bufStart = from;
    bufLen = done;
  };
  const restIsZero = (from: number): boolean => {
    for (let at = from; at < fileSize; at += bufLen) {
      load(at, 1);
      for (let i = 0; i < bufLen; i++) if (buf[i] !== 0) return false;
      if (bufLen === 0) break;
    }
    return true;
  };

  seg.count = 0;
  seg.size = 0;
  seg.maxTimestamp = 0;
  let pos = 0;
  let tornReason: string | null = null;
  while (pos < fileSize) {
    const remaining = fileSize - pos;
    if (remaining < ENTRY_OVERHEAD_BYTES) {
      if (isLast) {
        tornReason = `${remaining} trailing bytes, less than an entry header`;
        break;
      }
      throw corrupt(seg, pos, `${remaining} trailing bytes, less than an entry header`);
    }
    if (pos + ENTRY_OVERHEAD_BYTES > bufStart + bufLen) load(pos, ENTRY_OVERHEAD_BYTES);
    let rel = pos - bufStart;
    const size = buf.readUInt32LE(rel);
    if (size < ENTRY_OVERHEAD_BYTES) {
      if (isLast && restIsZero(pos)) {
        tornReason = 'zero-filled tail';
        break;
      }
      throw corrupt(seg, pos, `entry size ${size} is smaller than the framing (${ENTRY_OVERHEAD_BYTES})`);
    }
    if (size > remaining) {
      if (isLast) {
        tornReason = `entry of ${size} bytes runs past the end of the file (${remaining} bytes left)`;
        break;
      }
      throw corrupt(seg, pos, `entry of ${size} bytes runs past the end of the file (${remaining} bytes left)`);
    }
    if (pos + size > bufStart + bufLen) {
      load(pos, size);
      rel = 0;
    }
    const stored = buf.readUInt32LE(rel + 4);
    const actual = crc32(buf.subarray(rel + 8, rel + size));
    if (stored !== actual) {
      if (isLast && (pos + size === fileSize || restIsZero(pos + size))) {
        tornReason = `last entry's CRC ${actual} does not match the stored ${stored}`;
        break;
      }
      throw corrupt(seg, pos, `CRC mismatch (stored ${stored}, computed ${actual})`);
    }
    const offset = buf.readDoubleLE(rel + 12);
    const expected = seg.baseOffset + seg.count;
    if (offset !== expected) throw corrupt(seg, pos, `entry has offset ${offset}, expected ${expected}`);
    const ts = buf.readDoubleLE(rel + 20);
    if (ts > seg.maxTimestamp) seg.maxTimestamp = ts;
    seg.reserve(seg.count + 1);
    seg.setPosition(seg.count, pos);
    seg.count++;
    pos += size;
    seg.size = pos;
  }
  if (tornReason !== null) {
    const truncatedBytes = fileSize - pos;
    log.warn({ file: seg.path, position: pos, truncatedBytes, reason: tornReason }, 'truncating torn tail of log segment');
    seg.truncate(seg.count, pos);
    return { truncatedBytes };
  }
  return { truncatedBytes: 0 };
}
