/**
 * Record framing shared by the embedded log's segment files, the batches handed to consumers
 * and the buffers exchanged with operator worker threads. One contiguous buffer holds many
 * records, so a batch crosses a thread boundary as one transferable ArrayBuffer (no per-record
 * postMessage, no per-record objects).
 *
 * Entry layout (little endian), `size` bytes in all:
 * ```
 *  0  u32  size        bytes of the whole entry, header included
 *  4  u32  crc         CRC-32 (zlib polynomial) of bytes [8, size); 0 = not computed yet
 *  8  i32  partition   -1 = not chosen yet (producer derives it from the key)
 * 12  f64  offset      -1 = not assigned yet (set by the log on append)
 * 20  f64  timestamp   ms since the epoch; 0 = not set (the log stamps "now")
 * 28  i32  keyLength   -1 = null key
 * 32       key bytes (UTF-8)
 *      u32  valueLength
 *           value bytes
 * ```
 */
import { crc32 } from 'node:zlib';

/** Bytes of framing in front of the key. */
export const ENTRY_HEADER_BYTES = 32;
/** Bytes of framing per entry in all (header + value length). */
export const ENTRY_OVERHEAD_BYTES = ENTRY_HEADER_BYTES + 4;

/** A buffer of zero or more framed entries. */
export type EncodedRecords = Uint8Array;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * Appends entries to a growable buffer. Reuse one encoder with `reset()` to avoid allocation.
 * Strings are written with `TextEncoder.encodeInto` straight into the buffer.
 */
export class RecordsEncoder {
  #buf: Uint8Array;
  #view: DataView;
  #length = 0;
  #count = 0;

  /** @param initialBytes starting capacity in bytes; the buffer doubles as needed. */
  constructor(initialBytes = 64 * 1024) {
    this.#buf = new Uint8Array(initialBytes);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Entries added since the last reset. */
  get count(): number {
    return this.#count;
  }

  /** Bytes used since the last reset. */
  get byteLength(): number {
    return this.#length;
  }

  #ensure(extra: number): void {
    const need = this.#length + extra;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    // Copy everything, not just the finished entries: the entry being added may already have
    // its key written past #length when its value makes the buffer grow.
    next.set(this.#buf);
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #writeBytesOrString(at: number, data: Uint8Array | string): number {
    if (typeof data === 'string') {
      // UTF-8 needs at most 3 bytes per UTF-16 code unit.
      this.#ensure(at - this.#length + data.length * 3);
      return textEncoder.encodeInto(data, this.#buf.subarray(at)).written;
    }
    this.#ensure(at - this.#length + data.length);
    this.#buf.set(data, at);
    return data.length;
  }

  /**
   * Adds one entry.
   * @param key partitioning key, or null
   * @param value bytes or a string (written as UTF-8)
   * @param partition target partition, -1 to let the producer choose by key
   * @param timestamp ms since the epoch, 0 to let the log stamp it
   * @param offset the record's offset, -1 when the log has not assigned one yet
   * @returns the byte position of the new entry in {@link bytes}
   */
  add(key: string | Uint8Array | null, value: Uint8Array | string, partition = -1, timestamp = 0, offset = -1): number {
    const start = this.#length;
    this.#ensure(ENTRY_OVERHEAD_BYTES);
    let pos = start + ENTRY_HEADER_BYTES;
    let keyLength = -1;
    if (key !== null) {
      keyLength = this.#writeBytesOrString(pos, key);
      pos += keyLength;
    }
    this.#ensure(pos - this.#length + 4);
    const valueAt = pos + 4;
    const valueLength = this.#writeBytesOrString(valueAt, value);
    const size = valueAt + valueLength - start;
    const v = this.#view;
    v.setUint32(start, size, true);
    v.setUint32(start + 4, 0, true);
    v.setInt32(start + 8, partition, true);
    v.setFloat64(start + 12, offset, true);
    v.setFloat64(start + 20, timestamp, true);
    v.setInt32(start + 28, keyLength, true);
    v.setUint32(pos, valueLength, true);
    this.#length = start + size;
    this.#count++;
    return start;
  }

  /**
   * Copies one already framed entry (e.g. from a cursor) as it is.
   * @returns the byte position of the new entry in {@link bytes}
   */
  addEntry(entry: Uint8Array): number {
    this.#ensure(entry.length);
    const start = this.#length;
    this.#buf.set(entry, start);
    this.#length += entry.length;
    this.#count++;
    return start;
  }

  /** Timestamp field of the entry at byte position `at`, ms. */
  timestampAt(at: number): number {
    return this.#view.getFloat64(at + 20, true);
  }

  /**
   * Stamps partition, offset and timestamp into the entry at byte position `at` and writes its
   * CRC, like {@link sealEntry} but without allocating a view.
   */
  seal(at: number, partition: number, offset: number, timestamp: number): void {
    const v = this.#view;
    const size = v.getUint32(at, true);
    v.setInt32(at + 8, partition, true);
    v.setFloat64(at + 12, offset, true);
    v.setFloat64(at + 20, timestamp, true);
    v.setUint32(at + 4, crc32(this.#buf.subarray(at + 8, at + size)), true);
  }

  /** The entries added since the last reset (a view, valid until the next add or reset). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }

  /**
   * Returns the entries as a new, exactly sized buffer that owns its ArrayBuffer
   * (safe to transfer to another thread) and resets the encoder.
   */
  finish(): EncodedRecords {
    const out = this.#buf.slice(0, this.#length);
    this.reset();
    return out;
  }

  /** Forgets all entries, keeps the capacity. */
  reset(): void {
    this.#length = 0;
    this.#count = 0;
  }
}

/**
 * Reads entries of an {@link EncodedRecords} buffer in place, one at a time, without
 * allocating per entry: `const c = new RecordCursor(buf); while (c.next()) use(c.partition, c.valueString())`.
 */
export class RecordCursor {
  readonly buffer: Uint8Array;
  #view: DataView;
  #at = -1;
  #next = 0;
  #size = 0;
  #keyLength = -1;

  constructor(buffer: EncodedRecords) {
    this.buffer = buffer;
    this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  /**
   * Moves to the next entry. Returns false at the end.
   * @throws RangeError when an entry is truncated (size runs past the buffer).
   */
  next(): boolean {
    if (this.#next + ENTRY_OVERHEAD_BYTES > this.buffer.length) {
      if (this.#next !== this.buffer.length) throw new RangeError(`truncated record entry at byte ${this.#next}`);
      return false;
    }
    const size = this.#view.getUint32(this.#next, true);
    if (size < ENTRY_OVERHEAD_BYTES || this.#next + size > this.buffer.length) {
      throw new RangeError(`record entry at byte ${this.#next} has size ${size} beyond the buffer (${this.buffer.length})`);
    }
    this.#at = this.#next;
    this.#size = size;
    this.#next += size;
    this.#keyLength = this.#view.getInt32(this.#at + 28, true);
    return true;
  }

  /** Byte position of the current entry in the buffer. */
  get position(): number {
    return this.#at;
  }
  get size(): number {
    return this.#size;
  }
  get crc(): number {
    return this.#view.getUint32(this.#at + 4, true);
  }
  get partition(): number {
    return this.#view.getInt32(this.#at + 8, true);
  }
  get offset(): number {
    return this.#view.getFloat64(this.#at + 12, true);
  }
  get timestamp(): number {
    return this.#view.getFloat64(this.#at + 20, true);
  }
  /** -1 for a null key. */
  get keyLength(): number {
    return this.#keyLength;
  }
  /** The key bytes (a view, not a copy), or null. */
  keyBytes(): Uint8Array | null {
    if (this.#keyLength < 0) return null;
    const start = this.#at + ENTRY_HEADER_BYTES;
    return this.buffer.subarray(start, start + this.#keyLength);
  }
  keyString(): string | null {
    const k = this.keyBytes();
    return k === null ? null : textDecoder.decode(k);
  }
  #valueStart(): number {
    return this.#at + ENTRY_HEADER_BYTES + Math.max(0, this.#keyLength) + 4;
  }
  get valueLength(): number {
    return this.#view.getUint32(this.#valueStart() - 4, true);
  }
  /** The value bytes (a view, not a copy). */
  valueBytes(): Uint8Array {
    const start = this.#valueStart();
    return this.buffer.subarray(start, start + this.valueLength);
  }
  valueString(): string {
    return textDecoder.decode(this.valueBytes());
  }
  /** The whole framed entry (a view). */
  entry(): Uint8Array {
    return this.buffer.subarray(this.#at, this.#at + this.#size);
  }
  /** CRC-32 of the entry's bytes after the crc field, as stored by {@link sealEntry}. */
  computeCrc(): number {
    return crc32(this.buffer.subarray(this.#at + 8, this.#at + this.#size));
  }
}

/**
 * Stamps partition, offset and timestamp into one framed entry in place and writes its CRC.
 * Used by a log when it appends the entry.
 * @param buf buffer holding the entry
 * @param at byte position of the entry
 */
export function sealEntry(buf: Uint8Array, at: number, partition: number, offset: number, timestamp: number): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = v.getUint32(at, true);
  v.setInt32(at + 8, partition, true);
  v.setFloat64(at + 12, offset, true);
  v.setFloat64(at + 20, timestamp, true);
  v.setUint32(at + 4, crc32(buf.subarray(at + 8, at + size)), true);
}

/** Counts the entries of a buffer (walks the size fields only). */
export function countRecords(buf: EncodedRecords): number {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let n = 0;
  for (let at = 0; at + ENTRY_OVERHEAD_BYTES <= buf.length; n++) at += v.getUint32(at, true);
  return n;
}
