/**
 * Committed offsets of one consumer group, in memory and in
 * `<dataDir>/log/_offsets/<encodeURIComponent(groupId)>.json`
 * (`{"version":1,"groupId","offsets":{"<topic>":{"<partition>":<next offset to read>}}}`).
 *
 * Commits update memory at once; the file is rewritten atomically (tmp + rename) at most every
 * `flushMs`, and on `flush()` (consumer and transport close). A crash loses at most the commits
 * of the last `flushMs`: those records are handed again after restart (at-least-once).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { writeFileAtomic, writeFileAtomicAsync } from './atomic-write.ts';

interface OffsetsFile {
  version: 1;
  groupId: string;
  offsets: Record<string, Record<string, number>>;
}

/** Committed offsets of one group. */
export class OffsetStore {
  readonly groupId: string;
  readonly path: string;
  readonly #offsets = new Map<string, Map<number, number>>();
  readonly #flushMs: number;
  readonly #fsync: boolean;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #dirty = false;
  /** A background write is in flight. */
  #writing = false;
  /** Version of the latest write started; an older write in flight is not renamed. */
  #generation = 0;

  /**
   * Loads the group's file when it exists.
   * @param dir the `_offsets` directory (created when missing)
   * @param flushMs coalescing window of file writes, ms
   * @throws HeraldError HERALD_LOG_CORRUPT when the file is not valid JSON
   */
  constructor(dir: string, groupId: string, flushMs: number, fsync: boolean, log: Logger) {
    this.groupId = groupId;
    this.path = join(dir, `${encodeURIComponent(groupId)}.json`);
    this.#flushMs = flushMs;
    this.#fsync = fsync;
    this.#log = log;
    mkdirSync(dir, { recursive: true });
    if (!existsSync(this.path)) return;
    let file: OffsetsFile;
    try {
      file = JSON.parse(readFileSync(this.path, 'utf8')) as OffsetsFile;
    } catch (err) {
      throw new HeraldError('HERALD_LOG_CORRUPT', `committed offsets file ${this.path} is not valid JSON (byte 0)`, { cause: err, details: { file: this.path, position: 0 } });
    }
    for (const [topic, parts] of Object.entries(file.offsets ?? {})) {
      const m = new Map<number, number>();
      for (const [p, o] of Object.entries(parts)) if (Number.isFinite(o)) m.set(Number(p), o);
      this.#offsets.set(topic, m);
    }
  }

  /** Committed offset (next record to read) of a partition, or undefined when none. */
  get(topic: string, partition: number): number | undefined {
    return this.#offsets.get(topic)?.get(partition);
  }

  /** Records a commit in memory and schedules a file write within `flushMs`. */
  set(topic: string, partition: number, offset: number): void {
    let m = this.#offsets.get(topic);
    if (m === undefined) this.#offsets.set(topic, (m = new Map()));
    m.set(partition, offset);
    this.#dirty = true;
    this.#schedule(this.#flushMs);
  }

  #schedule(ms: number): void {
    if (this.#timer === null) this.#timer = setTimeout(() => this.#flushInBackground(), ms);
  }

  #serialize(): string {
    const offsets: OffsetsFile['offsets'] = {};
    for (const [topic, m] of this.#offsets) {
      const parts: Record<string, number> = {};
      for (const [p, o] of m) parts[String(p)] = o;
      offsets[topic] = parts;
    }
    const file: OffsetsFile = { version: 1, groupId: this.groupId, offsets };
    return `${JSON.stringify(file)}\n`;
  }

  /**
   * The periodic write, off the event loop: a file write can stall for tens of ms while the disk
   * is busy (measured: 112 ms on the main thread under load). One write at a time; a write
   * overtaken by a newer one (e.g. {@link flush} at close) is discarded, never renamed over it.
   */
  #flushInBackground(): void {
    this.#timer = null;
    if (!this.#dirty) return;
    if (this.#writing) {
      this.#schedule(this.#flushMs);
      return;
    }
    const generation = ++this.#generation;
    const data = this.#serialize();
    this.#dirty = false;
    this.#writing = true;
    writeFileAtomicAsync(this.path, data, this.#fsync, `.${generation}`, () => generation === this.#generation)
      .catch((err: unknown) => {
        this.#log.error({ err, file: this.path, groupId: this.groupId }, 'could not persist committed offsets; will retry');
        this.#dirty = true;
      })
      .finally(() => {
        this.#writing = false;
        if (this.#dirty) this.#schedule(Math.max(this.#flushMs, 100));
      });
  }

  /**
   * Writes the file now, synchronously, when something changed (close paths). Supersedes a
   * background write in flight. File errors are logged and retried later.
   */
  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (!this.#dirty) return;
    const generation = ++this.#generation;
    try {
      writeFileAtomic(this.path, this.#serialize(), this.#fsync, `.${generation}`);
      this.#dirty = false;
    } catch (err) {
      this.#log.error({ err, file: this.path, groupId: this.groupId }, 'could not persist committed offsets; will retry');
      this.#schedule(Math.max(this.#flushMs, 100));
    }
  }
}
