/**
 * One segment file of a partition: entries in the record-codec framing, back to back, the first
 * one having offset `baseOffset`. File name: the base offset, 20 digits, `.log`.
 *
 * The in-memory index maps `offset - baseOffset` to the entry's byte position in a growable
 * Uint32Array (4 bytes per record, no object per record); `maxTimestamp` drives retention.
 */
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** File name of the segment with base offset `baseOffset`. */
export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

/** Matches segment file names; group 1 is the base offset. */
export const SEGMENT_FILE_RE = /^(\d{20})\.log$/;

/**
 * Segment files kept open at once, process-wide. A week of a busy partition is thousands of
 * segments, and the process has a file-descriptor limit (20,000 on these machines): segments
 * not used lately are closed and reopened on their next read or write (least recently used).
 */
export const MAX_OPEN_SEGMENTS = 512;

/** Open segments, least recently used first (Map keeps insertion order). */
const openSegments = new Map<Segment, true>();

/** A segment file; its descriptor is opened on demand (read/write) and may be closed when idle. */
export class Segment {
  /** Offset of the first entry. */
  readonly baseOffset: number;
  /** Absolute file path. */
  readonly path: string;
  #fd: number | null;
  /** Bytes of valid entries; the next append goes here. */
  size = 0;
  /** Number of entries. */
  count = 0;
  /** Newest record timestamp in the segment, ms since the epoch (0 when empty). */
  maxTimestamp = 0;
  #positions = new Uint32Array(1024);

  /** @param fd an fd opened read/write on `path` (the segment takes ownership) */
  constructor(path: string, baseOffset: number, fd: number) {
    this.path = path;
    this.baseOffset = baseOffset;
    this.#fd = fd;
    Segment.#touch(this);
  }

  /** Marks `seg` most recently used and closes the least recently used beyond the limit. */
  static #touch(seg: Segment): void {
    openSegments.delete(seg);
    openSegments.set(seg, true);
    while (openSegments.size > MAX_OPEN_SEGMENTS) {
      const oldest = openSegments.keys().next().value as Segment;
      oldest.#release();
    }
  }

  #release(): void {
    openSegments.delete(this);
    if (this.#fd === null) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = null;
  }

  /** The open file descriptor (read/write), reopened when it was closed for being idle. */
  get fd(): number {
    if (this.#fd === null) this.#fd = openSync(this.path, 'r+');
    Segment.#touch(this);
    return this.#fd;
  }

  /**
   * Creates a new, empty segment file in `dir`.
   * @throws the fs error (EEXIST when a file with that base offset exists)
   */
  static create(dir: string, baseOffset: number): Segment {
    const path = join(dir, segmentFileName(baseOffset));
    return new Segment(path, baseOffset, openSync(path, 'wx+'));
  }

  /** Opens an existing segment file (the index is empty until recovery fills it). */
  static open(path: string, baseOffset: number): Segment {
    return new Segment(path, baseOffset, openSync(path, 'r+'));
  }

  /** Offset the next entry appended to this segment would get. */
  get endOffset(): number {
    return this.baseOffset + this.count;
  }

  /** Makes room for `entries` index slots. */
  reserve(entries: number): void {
    if (entries <= this.#positions.length) return;
    const next = new Uint32Array(Math.max(entries, this.#positions.length * 2));
    next.set(this.#positions.subarray(0, this.count));
    this.#positions = next;
  }

  /** Records the byte position of entry number `index` (call `reserve` first). */
  setPosition(index: number, position: number): void {
    this.#positions[index] = position;
  }

  /** Byte position of entry `index` (`index === count` gives `size`, the end). */
  positionOf(index: number): number {
    return index < this.count ? this.#positions[index]! : this.size;
  }

  /**
   * Writes `buf` at byte `position`, looping over short writes.
   * @throws the fs error (nothing is rolled back here)
   */
  write(buf: Uint8Array, position: number): void {
    const fd = this.fd;
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
  }

  /**
   * Reads `length` bytes from byte `position` into a new buffer that owns its ArrayBuffer
   * (safe to transfer to a worker thread).
   * @throws Error when the file is shorter than expected
   */
  read(position: number, length: number): Uint8Array {
    const buf = Buffer.allocUnsafeSlow(length);
    const fd = this.fd;
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, position + done);
      if (n === 0) throw new Error(`short read of ${this.path} at byte ${position + done}`);
      done += n;
    }
    return new Uint8Array(buf.buffer, 0, length);
  }

  /** Cuts the file and the index back to `count` entries ending at byte `size`. */
  truncate(count: number, size: number): void {
    ftruncateSync(this.fd, size);
    this.count = count;
    this.size = size;
  }

  /** Closes the file descriptor (idempotent; a later read or write reopens it). */
  close(): void {
    this.#release();
  }
}
