/**
 * A Bloom filter (Bloom 1970) over one SharedArrayBuffer, so a worker thread can use state the
 * main thread allocated and keeps across batches. k positions per key by Kirsch–Mitzenmacher
 * double hashing ({@link testAndSetBits}) from the two one-pass string hashes of {@link hashPair}.
 *
 * Buffer layout (Int32, little endian as the platform): 64-byte header
 * `[0] magic, [1] m bits, [2] k, [3] keys added`, then m/32 words of bits.
 * Single writer: one thread at a time may add (the runtime runs one batch per partition at a
 * time); reads and writes are plain, not Atomics.
 */
import { HeraldError } from '../../core/errors.ts';
import { popcount, probeStart, probeStep, testAndSetBits, testBits } from './bit-probes.ts';
import { hashPair } from './hash.ts';
import { bloomSize } from './sizing.ts';

const MAGIC = 0x424c4d31; // "BLM1"
const HEADER_BYTES = 64;
const HEADER_WORDS = HEADER_BYTES / 4;

const hashes = new Uint32Array(2);

/** A fixed-size Bloom filter; no false negatives, false positives at about the sized rate. */
export class BloomFilter {
  /** The backing shared memory (header + bits). */
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #m: number;
  readonly #k: number;

  /**
   * Wraps an existing filter buffer (e.g. one created on another thread).
   * @throws HeraldError HERALD_OPERATOR_FAILED when the buffer is not a Bloom filter buffer
   */
  constructor(buffer: SharedArrayBuffer) {
    const words = new Int32Array(buffer);
    const m = words[1]!;
    if (buffer.byteLength < HEADER_BYTES || words[0] !== MAGIC || buffer.byteLength !== HEADER_BYTES + m / 8) {
      throw new HeraldError('HERALD_OPERATOR_FAILED', 'not a Bloom filter buffer (bad magic or size)');
    }
    this.buffer = buffer;
    this.#words = words;
    this.#m = m;
    this.#k = words[2]!;
  }

  /**
   * A new empty filter sized for `expectedKeys` at `falsePositiveRate` ({@link bloomSize}).
   * @throws HeraldError HERALD_CONFIG_INVALID for sizes out of range
   */
  static create(expectedKeys: number, falsePositiveRate: number): BloomFilter {
    const { bits, hashes: k } = bloomSize(expectedKeys, falsePositiveRate);
    const buffer = new SharedArrayBuffer(HEADER_BYTES + bits / 8);
    const words = new Int32Array(buffer);
    words[0] = MAGIC;
    words[1] = bits;
    words[2] = k;
    return new BloomFilter(buffer);
  }

  /** m: bits in the filter. */
  get bits(): number {
    return this.#m;
  }
  /** k: hash positions per key. */
  get hashes(): number {
    return this.#k;
  }
  /** Keys added that were not already (apparently) present. */
  get count(): number {
    return this.#words[3]!;
  }
  /** Bytes of shared memory, header included. */
  get bytes(): number {
    return this.buffer.byteLength;
  }
  /** Fraction of bits set, 0..1 (O(m/32) popcount). Expected FP rate ≈ fill^k. */
  fill(): number {
    return popcount(this.#words, HEADER_WORDS, this.#m / 32) / this.#m;
  }

  /** Adds `key`. @returns true when it was (apparently) present before: a Bloom positive. */
  testAndAdd(key: string): boolean {
    hashPair(key, hashes);
    const m = this.#m;
    const present = testAndSetBits(this.#words, HEADER_WORDS, probeStart(hashes[0]!, m), probeStep(hashes[1]!, m), m, this.#k);
    if (!present) this.#words[3] = this.#words[3]! + 1;
    return present;
  }

  /** @returns true when `key` may have been added (never false for an added key). */
  has(key: string): boolean {
    hashPair(key, hashes);
    const m = this.#m;
    return testBits(this.#words, HEADER_WORDS, probeStart(hashes[0]!, m), probeStep(hashes[1]!, m), m, this.#k);
  }

  /** Empties the filter. */
  clear(): void {
    this.#words.fill(0, 3);
  }
}
