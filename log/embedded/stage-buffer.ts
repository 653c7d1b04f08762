/**
 * The write buffer of one partition during a group-commit flush: entries are framed in the
 * record-codec layout (see log/record-codec.ts) with their final partition, offset, timestamp and
 * CRC-32 already set, so the buffer is written to the segment file as it is (no second pass, no
 * copy). Capacity is reserved for the WHOLE entry before any byte of it is written.
 *
 * (It does not use RecordsEncoder: that one's growth copies only completed entries, which drops
 * the key of an entry whose value triggers the growth; reported to the codec's owner.)
 */
import { crc32 } from 'node:zlib';
import { ENTRY_HEADER_BYTES, ENTRY_OVERHEAD_BYTES } from '../record-codec.ts';

const textEncoder = new TextEncoder();

/** A growable buffer of sealed entries, reused between flushes. */
export class StageBuffer {
  #buf: Uint8Array;
  #view: DataView;
  #length = 0;
  #count = 0;
  /** Byte position of each entry in the buffer. */
  #positions = new Uint32Array(256);
  /** Newest timestamp staged, ms since the epoch. */
  maxTimestamp = 0;

  /** @param initialBytes starting capacity, bytes (doubles as needed) */
  constructor(initialBytes = 16 * 1024) {
    this.#buf = new Uint8Array(initialBytes);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Entries staged. */
  get count(): number {
    return this.#count;
  }

  /** Bytes staged. */
  get byteLength(): number {
    return this.#length;
  }

  /** The staged bytes (a view, valid until the next add or reset). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }

  /** Byte position of staged entry `i` within {@link bytes}. */
  positionOf(i: number): number {
    return this.#positions[i]!;
  }

  #reserve(extra: number): void {
    const need = this.#length + extra;
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, this.#length));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    if (this.#count === this.#positions.length) {
      const p = new Uint32Array(this.#positions.length * 2);
      p.set(this.#positions);
      this.#positions = p;
    }
  }

  #seal(start: number, size: number, partition: number, offset: number, timestamp: number): void {
    const v = this.#view;
    v.setUint32(start, size, true);
    v.setInt32(start + 8, partition, true);
    v.setFloat64(start + 12, offset, true);
    v.setFloat64(start + 20, timestamp, true);
    v.setUint32(start + 4, crc32(this.#buf.subarray(start + 8, start + size)), true);
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.#positions[this.#count++] = start;
    this.#length = start + size;
  }

  /**
   * Frames and seals one record.
   * @param key UTF-8 string or null
   * @param value bytes or a string (UTF-8)
   * @param offset the offset the log gives this record
   * @param timestamp ms since the epoch
   */
  add(key: string | null, value: Uint8Array | string, partition: number, offset: number, timestamp: number): void {
    const valueMax = typeof value === 'string' ? value.length * 3 : value.length;
    this.#reserve(ENTRY_OVERHEAD_BYTES + (key === null ? 0 : key.length * 3) + valueMax);
    const start = this.#length;
    let pos = start + ENTRY_HEADER_BYTES;
    let keyLength = -1;
    if (key !== null) {
      keyLength = textEncoder.encodeInto(key, this.#buf.subarray(pos)).written;
      pos += keyLength;
    }
    let valueLength: number;
    if (typeof value === 'string') {
      valueLength = textEncoder.encodeInto(value, this.#buf.subarray(pos + 4)).written;
    } else {
      this.#buf.set(value, pos + 4);
      valueLength = value.length;
    }
    this.#view.setInt32(start + 28, keyLength, true);
    this.#view.setUint32(pos, valueLength, true);
    this.#seal(start, pos + 4 + valueLength - start, partition, offset, timestamp);
  }

  /**
   * Copies one already framed entry and seals it.
   * @param entry exactly one entry (its size field = entry.length)
   * @param now stamped when the entry's timestamp is 0
   */
  addEntry(entry: Uint8Array, partition: number, offset: number, now: number): void {
    this.#reserve(entry.length);
    const start = this.#length;
    this.#buf.set(entry, start);
    const ts = this.#view.getFloat64(start + 20, true);
    this.#seal(start, entry.length, partition, offset, ts === 0 ? now : ts);
  }

  /** Forgets the staged entries; keeps the capacity. */
  reset(): void {
    this.#length = 0;
    this.#count = 0;
    this.maxTimestamp = 0;
  }
}
