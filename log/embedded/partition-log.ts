/**
 * One partition of a log topic: an ordered list of segment files, the append path (stamps
 * offsets and timestamps, seals CRCs, one write per flush), the read path (a slice of segment
 * bytes per batch) and time retention.
 *
 * Directory: `<dataDir>/log/<topic>/<partition>/`, one `<baseOffset:20>.log` file per segment.
 */
import { fdatasyncSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { recoverSegment } from './recovery.ts';
import { SEGMENT_FILE_RE, Segment } from './segment.ts';
import { StageBuffer } from './stage-buffer.ts';

/** State of a partition before an append, to undo it (see {@link PartitionLog.rollback}). */
export interface AppendMark {
  segment: Segment;
  size: number;
  count: number;
  maxTimestamp: number;
}

/** A read slice: consecutive entries of one segment. */
export interface ReadSlice {
  /** Entries in the record-codec framing; owns its ArrayBuffer. */
  encoded: Uint8Array;
  firstOffset: number;
  count: number;
}

/** Settings a partition needs from its topic and the transport. */
export interface PartitionSettings {
  segmentBytes: number;
  retentionMs: number;
  fsync: boolean;
}

/** A partition's on-disk log. Single-threaded: all calls happen on the transport's thread. */
export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  /**
   * Entries staged (already sealed, offsets from {@link endOffset} on) for the next append by the
   * group-commit appender; reused between flushes. Internal to the embedded module.
   */
  readonly stage = new StageBuffer();
  /** Set while the partition is in the appender's current flush. */
  inFlush = false;
  /** Offset given to the first entry of the last successful append. */
  lastAppendBase = 0;
  readonly #settings: PartitionSettings;
  readonly #log: Logger;
  #segments: Segment[];
  #waiters: Array<() => void> = [];
  #closed = false;

  private constructor(topic: string, partition: number, dir: string, segments: Segment[], settings: PartitionSettings, log: Logger) {
    this.topic = topic;
    this.partition = partition;
    this.dir = dir;
    this.#segments = segments;
    this.#settings = settings;
    this.#log = log;
  }

  /**
   * Opens (and recovers) or creates the partition directory.
   * @throws HeraldError HERALD_LOG_CORRUPT when a segment fails validation; fs errors
   */
  static open(dir: string, topic: string, partition: number, settings: PartitionSettings, log: Logger): PartitionLog {
    mkdirSync(dir, { recursive: true });
    const bases = readdirSync(dir)
      .map((name) => SEGMENT_FILE_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    try {
      for (let i = 0; i < bases.length; i++) {
        const base = bases[i]!;
        const seg = Segment.open(join(dir, `${String(base).padStart(20, '0')}.log`), base);
        segments.push(seg);
        recoverSegment(seg, i === bases.length - 1, log);
        const prev = segments[i - 1];
        if (prev !== undefined && prev.endOffset !== base) {
          throw new HeraldError(
            'HERALD_LOG_CORRUPT',
            `log segment ${seg.path} starts at offset ${base} but the previous segment ends at ${prev.endOffset} (byte 0)`,
            { details: { file: seg.path, position: 0 } },
          );
        }
      }
      if (segments.length === 0) segments.push(Segment.create(dir, 0));
    } catch (err) {
      for (const s of segments) s.close();
      throw err;
    }
    return new PartitionLog(topic, partition, dir, segments, settings, log);
  }

  /** Offset of the oldest record still on disk. */
  get logStartOffset(): number {
    return this.#segments[0]!.baseOffset;
  }

  /** Offset the next appended record gets (the high watermark). */
  get endOffset(): number {
    return this.#active().endOffset;
  }

  /** Number of segment files. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  #active(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  #roll(now: number): Segment {
    const seg = Segment.create(this.dir, this.endOffset);
    this.#segments.push(seg);
    this.#log.debug({ topic: this.topic, partition: this.partition, baseOffset: seg.baseOffset }, 'rolled log segment');
    this.deleteExpired(now);
    return seg;
  }

  /**
   * Appends the entries in {@link stage} (sealed by the appender with offsets starting at
   * {@link endOffset}) with one `write(2)`, rolling the segment first when it would pass
   * `segmentBytes`, indexes them, then resets the stage. Does not wake consumers (see `notify`).
   * @param now ms since the epoch (retention check on roll)
   * @returns the state before the write, for {@link rollback}
   * @throws the fs error; the partition is then unchanged (a partial write is truncated)
   */
  appendStaged(now: number): AppendMark {
    const stage = this.stage;
    try {
      if (this.#closed) throw new HeraldError('HERALD_LOG_CLOSED', `partition ${this.topic}/${this.partition} is closed`);
      const n = stage.count;
      const buf = stage.bytes();
      let seg = this.#active();
      if (seg.size > 0 && seg.size + buf.length > this.#settings.segmentBytes) seg = this.#roll(now);
      const mark: AppendMark = { segment: seg, size: seg.size, count: seg.count, maxTimestamp: seg.maxTimestamp };
      seg.reserve(seg.count + n);
      for (let i = 0; i < n; i++) seg.setPosition(seg.count + i, seg.size + stage.positionOf(i));
      try {
        seg.write(buf, seg.size);
        if (this.#settings.fsync) fdatasyncSync(seg.fd);
      } catch (err) {
        this.rollback(mark);
        throw err;
      }
      this.lastAppendBase = seg.endOffset;
      seg.size += buf.length;
      seg.count += n;
      if (stage.maxTimestamp > seg.maxTimestamp) seg.maxTimestamp = stage.maxTimestamp;
      return mark;
    } finally {
      stage.reset();
    }
  }

  /**
   * Undoes appends back to `mark` (used when another partition of the same flush failed).
   * @throws the fs error of the truncate
   */
  rollback(mark: AppendMark): void {
    const seg = mark.segment;
    seg.maxTimestamp = mark.maxTimestamp;
    seg.truncate(mark.count, mark.size);
  }

  /**
   * Reads up to `maxRecords` consecutive records starting at `offset`, at most `maxBytes` of
   * framing (but always at least one record), from one segment.
   * @returns null when `offset` is outside [logStartOffset, endOffset)
   * @throws fs errors of the read
   */
  read(offset: number, maxRecords: number, maxBytes: number): ReadSlice | null {
    if (offset < this.logStartOffset || offset >= this.endOffset) return null;
    const segs = this.#segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segs[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    const seg = segs[lo]!;
    const first = offset - seg.baseOffset;
    const start = seg.positionOf(first);
    // Largest end index e in [first+1, limit] whose bytes fit in maxBytes (binary search).
    let a = first + 1;
    let b = Math.min(seg.count, first + maxRecords);
    while (a < b) {
      const mid = (a + b + 1) >>> 1;
      if (seg.positionOf(mid) - start <= maxBytes) a = mid;
      else b = mid - 1;
    }
    const end = seg.positionOf(a);
    return { encoded: seg.read(start, end - start), firstOffset: offset, count: a - first };
  }

  /** Calls `wake` once, on the next append (or close). */
  onAppend(wake: () => void): void {
    this.#waiters.push(wake);
  }

  /** Wakes every consumer waiting for an append. */
  notify(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Deletes old segments (never the active one) whose newest record is older than
   * `now - retentionMs`.
   * @returns number of segment files deleted
   */
  deleteExpired(now: number): number {
    const cutoff = now - this.#settings.retentionMs;
    let deleted = 0;
    while (this.#segments.length > 1 && this.#segments[0]!.maxTimestamp < cutoff) {
      const seg = this.#segments.shift()!;
      seg.close();
      try {
        unlinkSync(seg.path);
      } catch (err) {
        this.#log.error({ err, file: seg.path }, 'could not delete expired log segment');
      }
      this.#log.info({ topic: this.topic, partition: this.partition, file: seg.path, baseOffset: seg.baseOffset }, 'deleted expired log segment');
      deleted++;
    }
    return deleted;
  }

  /** Closes every segment file and wakes waiters. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#segments) s.close();
    this.notify();
  }
}
