/**
 * The write buffer of one partition during a group-commit flush: entries are framed in the
 * record-codec layout (see log/record-codec.ts) with their final partition, offset, timestamp and
 * CRC-32 set as they are added, so the buffer is written to the segment file as it is (no second
 * pass, no copy). Positions of the entries are kept for the segment's offset index.
 */
import { RecordsEncoder } from '../record-codec.ts';

/** A growable buffer of sealed entries, reused between flushes. */
export class StageBuffer {
  readonly #encoder: RecordsEncoder;
  /** Byte position of each entry in the buffer. */
  #positions = new Uint32Array(256);
  /** Newest timestamp staged, ms since the epoch. */
  maxTimestamp = 0;

  /** @param initialBytes starting capacity, bytes (doubles as needed) */
  constructor(initialBytes = 16 * 1024) {
    this.#encoder = new RecordsEncoder(initialBytes);
  }

  /** Entries staged. */
  get count(): number {
    return this.#encoder.count;
  }

  /** Bytes staged. */
  get byteLength(): number {
    return this.#encoder.byteLength;
  }

  /** The staged bytes (a view, valid until the next add or reset). */
  bytes(): Uint8Array {
    return this.#encoder.bytes();
  }

  /** Byte position of staged entry `i` within {@link bytes}. */
  positionOf(i: number): number {
    return this.#positions[i]!;
  }

  #sealed(at: number, partition: number, offset: number, timestamp: number): void {
    this.#encoder.seal(at, partition, offset, timestamp);
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    const i = this.#encoder.count - 1;
    if (i === this.#positions.length) {
      const p = new Uint32Array(this.#positions.length * 2);
      p.set(this.#positions);
      this.#positions = p;
    }
    this.#positions[i] = at;
  }

  /**
   * Frames and seals one record.
   * @param key UTF-8 string or null
   * @param value bytes or a string (UTF-8)
   * @param offset the offset the log gives this record
   * @param timestamp ms since the epoch
   */
  add(key: string | null, value: Uint8Array | string, partition: number, offset: number, timestamp: number): void {
    this.#sealed(this.#encoder.add(key, value, partition, timestamp, offset), partition, offset, timestamp);
  }

  /**
   * Copies one already framed entry and seals it.
   * @param entry exactly one entry (its size field = entry.length)
   * @param now stamped when the entry's timestamp is 0
   */
  addEntry(entry: Uint8Array, partition: number, offset: number, now: number): void {
    const at = this.#encoder.addEntry(entry);
    const ts = this.#encoder.timestampAt(at);
    this.#sealed(at, partition, offset, ts === 0 ? now : ts);
  }

  /** Forgets the staged entries; keeps the capacity. */
  reset(): void {
    this.#encoder.reset();
    this.maxTimestamp = 0;
  }
}
