/**
 * A windowed Bloom filter: W Bloom filters ("windows") in ONE SharedArrayBuffer, so memory is
 * fixed at W × m bits however long the job runs. A key is added to the current window and tested
 * against all windows; the oldest window is cleared and becomes current when `windowMs` has
 * elapsed or when the current window holds `expectedKeysPerWindow` keys (so no window is ever
 * filled past its sizing and the false-positive rate stays bounded). A key is remembered for at
 * least (W - 1) windows after the one it was added in.
 *
 * Sizing: each window is sized (Bloom 1970, see {@link bloomSize}) for `expectedKeysPerWindow` at
 * `falsePositiveRate` (the catalogue's "target false-positive rate of one window"). A test
 * probes every non-empty window, so its false-positive rate is at most 1 - (1 - p)^W ≈ W·p when
 * all W windows are full (union bound); positives only cost an exact-store lookup. Positions are
 * computed once per key and probed in every window (all windows share m and k).
 *
 * Buffer layout: Int32 header `[0] magic, [1] W, [2] current window, [3] k, [4] m bits,
 * [5] words per window, [6] expected keys per window`, Float64 at byte 32 = start of the current
 * window (ms since the epoch, 0 = not started), at byte 40 = window length (ms), Int32 key counts
 * per window from byte 64, then the windows' bits from a 64-byte aligned offset.
 * Single writer: one thread at a time (the runtime runs one batch per partition at a time).
 */
import { HeraldError } from '../../core/errors.ts';
import { popcount, probeStart, probeStep, testAndSetBits, testBits } from './bit-probes.ts';
import { hashPair } from './hash.ts';
import { bloomSize } from './sizing.ts';

const MAGIC = 0x57424c31; // "WBL1"
const COUNTS_BYTE = 64;

/** Shape of a windowed filter (what the buffer is sized from). */
export interface WindowedBloomOptions {
  /** Window length, ms. */
  windowMs: number;
  /** Number of windows W, 1..{@link MAX_WINDOWS}. */
  windows: number;
  /** Keys per window before it rotates early. */
  expectedKeysPerWindow: number;
  /** Target false-positive rate of one full window, 0 < p < 1. */
  falsePositiveRate: number;
}

/** Most windows one filter may have. */
export const MAX_WINDOWS = 1000;

const hashes = new Uint32Array(2);

function bitsOffsetBytes(windows: number): number {
  return Math.ceil((COUNTS_BYTE + 4 * windows) / 64) * 64;
}

/** A fixed-memory, time- and count-rotated Bloom filter over one SharedArrayBuffer. */
export class WindowedBloomFilter {
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #counts: Int32Array;
  readonly #windows: number;
  readonly #m: number;
  readonly #k: number;
  readonly #wordsPerWindow: number;
  readonly #bitsBase: number;
  readonly #capacity: number;
  /** Clock of the last {@link advanceTo}, ms since the epoch (start of a window rotated early). */
  #nowMs = 0;

  /**
   * Wraps an existing buffer made by {@link WindowedBloomFilter.create}.
   * @throws HeraldError HERALD_OPERATOR_FAILED when the buffer is not a windowed Bloom buffer
   */
  constructor(buffer: SharedArrayBuffer) {
    const i32 = new Int32Array(buffer);
    const windows = i32[1]!;
    const wordsPerWindow = i32[5]!;
    if (i32[0] !== MAGIC || buffer.byteLength !== bitsOffsetBytes(windows) + windows * wordsPerWindow * 4) {
      throw new HeraldError('HERALD_OPERATOR_FAILED', 'not a windowed Bloom filter buffer (bad magic or size)');
    }
    this.buffer = buffer;
    this.#i32 = i32;
    this.#f64 = new Float64Array(buffer, 32, 2);
    this.#counts = new Int32Array(buffer, COUNTS_BYTE, windows);
    this.#windows = windows;
    this.#k = i32[3]!;
    this.#m = i32[4]!;
    this.#wordsPerWindow = wordsPerWindow;
    this.#capacity = i32[6]!;
    this.#bitsBase = bitsOffsetBytes(windows) / 4;
  }

  /**
   * Allocates an empty filter: bytes ≈ W × m / 8 + a header of 64 + 4W bytes.
   * @throws HeraldError HERALD_CONFIG_INVALID when a size is out of range
   */
  static create(options: WindowedBloomOptions): WindowedBloomFilter {
    const { windows, windowMs, expectedKeysPerWindow, falsePositiveRate } = options;
    if (!Number.isInteger(windows) || windows < 1 || windows > MAX_WINDOWS) throw new HeraldError('HERALD_CONFIG_INVALID', `windowed Bloom filter: windows must be 1..${MAX_WINDOWS}, got ${windows}`);
    if (!(windowMs > 0)) throw new HeraldError('HERALD_CONFIG_INVALID', `windowed Bloom filter: window_ms must be > 0, got ${windowMs}`);
    const { bits, hashes: k } = bloomSize(expectedKeysPerWindow, falsePositiveRate);
    const wordsPerWindow = bits / 32;
    const buffer = new SharedArrayBuffer(bitsOffsetBytes(windows) + windows * wordsPerWindow * 4);
    const i32 = new Int32Array(buffer);
    i32[0] = MAGIC;
    i32[1] = windows;
    i32[2] = 0;
    i32[3] = k;
    i32[4] = bits;
    i32[5] = wordsPerWindow;
    i32[6] = expectedKeysPerWindow;
    new Float64Array(buffer, 32, 2)[1] = windowMs;
    return new WindowedBloomFilter(buffer);
  }

  /** True when this buffer was sized from exactly these options (same W, m, k, capacity, window). */
  matches(options: WindowedBloomOptions): boolean {
    const { bits, hashes: k } = bloomSize(options.expectedKeysPerWindow, options.falsePositiveRate);
    return this.#windows === options.windows && this.#m === bits && this.#k === k && this.#capacity === options.expectedKeysPerWindow && this.#f64[1] === options.windowMs;
  }

  /** W: number of windows. */
  get windows(): number {
    return this.#windows;
  }
  /** m: bits per window. */
  get bitsPerWindow(): number {
    return this.#m;
  }
  /** k: hash positions per key. */
  get hashes(): number {
    return this.#k;
  }
  /** Index of the current window, 0..W-1. */
  get currentWindow(): number {
    return this.#i32[2]!;
  }
  /** Start of the current window, ms since the epoch (0 before the first key). */
  get windowStartMs(): number {
    return this.#f64[0]!;
  }
  /** Bytes of shared memory in all (fixed at creation). */
  get bytes(): number {
    return this.buffer.byteLength;
  }
  /** Keys added to each window, indexed by window number (not by age). */
  counts(): number[] {
    return Array.from(this.#counts);
  }
  /** Keys held in all windows. */
  get count(): number {
    let n = 0;
    for (let w = 0; w < this.#windows; w++) n += this.#counts[w]!;
    return n;
  }
  /** Fraction of bits set in each window, 0..1 (O(W·m/32)). */
  fill(): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.#windows; w++) out.push(popcount(this.#i32, this.#bitsBase + w * this.#wordsPerWindow, this.#wordsPerWindow) / this.#m);
    return out;
  }

  /**
   * Moves the clock to `nowMs` (ms since the epoch) and rotates as many windows as have elapsed
   * (clearing each window it reuses; all of them after W or more elapsed windows). Call before
   * each batch. A clock that goes backwards does not rotate.
   */
  advanceTo(nowMs: number): void {
    this.#nowMs = nowMs;
    const f = this.#f64;
    const start = f[0]!;
    const windowMs = f[1]!;
    if (start === 0) {
      f[0] = nowMs;
      return;
    }
    const elapsed = nowMs - start;
    if (elapsed < windowMs) return;
    const steps = Math.floor(elapsed / windowMs);
    if (steps >= this.#windows) {
      this.#i32.fill(0, this.#bitsBase);
      this.#counts.fill(0);
    } else {
      for (let s = 0; s < steps; s++) this.#rotate();
    }
    f[0] = start + steps * windowMs;
  }

  /** Makes the oldest window current and clears it. */
  #rotate(): void {
    const next = (this.#i32[2]! + 1) % this.#windows;
    const base = this.#bitsBase + next * this.#wordsPerWindow;
    this.#i32.fill(0, base, base + this.#wordsPerWindow);
    this.#counts[next] = 0;
    this.#i32[2] = next;
  }

  /**
   * Adds `key` to the current window (rotating first when it is full) and tests it against all
   * windows. @returns true for a Bloom positive (the key may have been added before).
   */
  testAndAdd(key: string): boolean {
    let current = this.#i32[2]!;
    if (this.#counts[current]! >= this.#capacity) {
      this.#rotate();
      this.#f64[0] = this.#nowMs;
      current = this.#i32[2]!;
    }
    hashPair(key, hashes);
    const m = this.#m;
    const k = this.#k;
    const x = probeStart(hashes[0]!, m);
    const step = probeStep(hashes[1]!, m);
    const words = this.#i32;
    if (testAndSetBits(words, this.#bitsBase + current * this.#wordsPerWindow, x, step, m, k)) return true;
    this.#counts[current] = this.#counts[current]! + 1;
    for (let w = 0; w < this.#windows; w++) {
      if (w === current || this.#counts[w] === 0) continue;
      if (testBits(words, this.#bitsBase + w * this.#wordsPerWindow, x, step, m, k)) return true;
    }
    return false;
  }

  /** @returns true when `key` may be in some window (never false for a key added and not yet expired). */
  has(key: string): boolean {
    hashPair(key, hashes);
    const m = this.#m;
    const x = probeStart(hashes[0]!, m);
    const step = probeStep(hashes[1]!, m);
    for (let w = 0; w < this.#windows; w++) {
      if (this.#counts[w] === 0) continue;
      if (testBits(this.#i32, this.#bitsBase + w * this.#wordsPerWindow, x, step, m, this.#k)) return true;
    }
    return false;
  }

  /** Empties every window and forgets the clock. */
  clear(): void {
    this.#i32.fill(0, this.#bitsBase);
    this.#counts.fill(0);
    this.#i32[2] = 0;
    this.#f64[0] = 0;
  }
}
