/**
 * The group-commit append path shared by all producers of a transport.
 *
 * `send` / `sendEncoded` validate their input, queue it and schedule one flush in a microtask:
 * every call made in the same event-loop turn (before the microtask queue drains) is written
 * together, one `write(2)` per touched partition, in call order (so per-key order holds). After
 * the writes, waiting consumers are woken in the same turn.
 *
 * If a write fails, every partition written by the flush is truncated back and every call of the
 * flush rejects with HERALD_LOG_APPEND_FAILED (nothing of it is readable).
 */
import { HeraldError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { partitionFor, murmur2 } from '../murmur2.ts';
import { ENTRY_HEADER_BYTES, ENTRY_OVERHEAD_BYTES, type EncodedRecords } from '../record-codec.ts';
import type { ProduceRecord, RecordMetadata } from '../types.ts';
import { appendedBytes, appendedRecords, flushRecords } from './metrics.ts';
import type { AppendMark, PartitionLog } from './partition-log.ts';
import type { TopicLog } from './topic-log.ts';

interface PendingRecords {
  kind: 0;
  topic: TopicLog;
  records: ProduceRecord[];
  /** Partition of each record (filled by the flush). */
  logs: PartitionLog[];
  /** Index of each record in its partition's stage. */
  index: Int32Array;
  resolve: (m: RecordMetadata[]) => void;
  reject: (e: unknown) => void;
}

interface PendingEncoded {
  kind: 1;
  topic: TopicLog;
  encoded: EncodedRecords;
  /** Target partition of each entry, computed at validation. */
  partitions: Int32Array;
  resolve: () => void;
  reject: (e: unknown) => void;
}

type Pending = PendingRecords | PendingEncoded;

function appendFailed(message: string, cause?: unknown): HeraldError {
  return new HeraldError('HERALD_LOG_APPEND_FAILED', message, cause === undefined ? {} : { cause });
}

/** Group-commit appender of one transport. */
export class Appender {
  #queue: Pending[] = [];
  #scheduled = false;
  #idle: Promise<void> = Promise.resolve();
  #idleResolve: (() => void) | null = null;
  readonly #log: Logger;
  readonly #flush = (): void => this.#runFlush();

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Queues records for the next flush.
   * @throws HeraldError HERALD_LOG_APPEND_FAILED (synchronously) for a bad record: partition out
   *   of range, key or value of the wrong type, bad timestamp
   */
  send(topic: TopicLog, records: ProduceRecord[]): Promise<RecordMetadata[]> {
    const n = topic.meta.partitions;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.key !== null && typeof r.key !== 'string') throw appendFailed(`record ${i}: key must be a string or null`, new TypeError('bad key'));
      if (typeof r.value !== 'string' && !(r.value instanceof Uint8Array)) throw appendFailed(`record ${i}: value must be a string or Uint8Array`, new TypeError('bad value'));
      if (r.partition !== undefined && !(Number.isInteger(r.partition) && r.partition >= 0 && r.partition < n)) {
        throw appendFailed(`record ${i}: partition ${r.partition} is not in [0, ${n}) of log topic ${topic.name}`, new RangeError('partition out of range'));
      }
      if (r.timestamp !== undefined && !(Number.isFinite(r.timestamp) && r.timestamp > 0)) throw appendFailed(`record ${i}: timestamp must be a positive number of ms`, new RangeError('bad timestamp'));
    }
    if (records.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#enqueue({ kind: 0, topic, records, logs: [], index: new Int32Array(records.length), resolve, reject });
    });
  }

  /**
   * Queues framed entries for the next flush (entries with partition -1 go by murmur2 of their key).
   * The caller's buffer is not modified; it must not be changed or transferred until the promise settles.
   * @throws HeraldError HERALD_LOG_APPEND_FAILED (synchronously) for a truncated buffer or a
   *   partition out of range
   */
  sendEncoded(topic: TopicLog, encoded: EncodedRecords): Promise<void> {
    const n = topic.meta.partitions;
    const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    const parts: number[] = [];
    let at = 0;
    while (at < encoded.length) {
      if (at + ENTRY_OVERHEAD_BYTES > encoded.length) throw appendFailed(`encoded records: truncated entry at byte ${at}`, new RangeError('truncated'));
      const size = view.getUint32(at, true);
      if (size < ENTRY_OVERHEAD_BYTES || at + size > encoded.length) throw appendFailed(`encoded records: entry at byte ${at} has bad size ${size}`, new RangeError('bad size'));
      let p = view.getInt32(at + 8, true);
      if (p === -1) {
        const keyLength = view.getInt32(at + 28, true);
        p = keyLength < 0 ? 0 : (murmur2(encoded.subarray(at + ENTRY_HEADER_BYTES, at + ENTRY_HEADER_BYTES + keyLength)) & 0x7fffffff) % n;
      } else if (p < 0 || p >= n) {
        throw appendFailed(`encoded records: entry at byte ${at} has partition ${p}, not in [0, ${n}) of log topic ${topic.name}`, new RangeError('partition out of range'));
      }
      parts.push(p);
      at += size;
    }
    if (parts.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#enqueue({ kind: 1, topic, encoded, partitions: Int32Array.from(parts), resolve, reject });
    });
  }

  /** Resolves when every call queued so far has been flushed. */
  drain(): Promise<void> {
    return this.#scheduled ? this.#idle : Promise.resolve();
  }

  #enqueue(p: Pending): void {
    this.#queue.push(p);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#idle = new Promise((r) => (this.#idleResolve = r));
    queueMicrotask(this.#flush);
  }

  #runFlush(): void {
    const queue = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    const idle = this.#idleResolve;
    this.#idleResolve = null;
    try {
      this.#write(queue);
    } finally {
      idle?.();
    }
  }

  #write(queue: Pending[]): void {
    const touched: PartitionLog[] = [];
    const touch = (log: PartitionLog): void => {
      if (!log.inFlush) {
        log.inFlush = true;
        touched.push(log);
      }
    };
    let total = 0;
    const now = Date.now();
    try {
      for (const p of queue) {
        const logs = p.topic.partitions;
        if (p.kind === 0) {
          const n = logs.length;
          for (let i = 0; i < p.records.length; i++) {
            const r = p.records[i]!;
            const log = logs[r.partition ?? partitionFor(r.key, n)]!;
            touch(log);
            p.logs.push(log);
            const index = log.stage.count;
            p.index[i] = index;
            log.stage.add(r.key, r.value, log.partition, log.endOffset + index, r.timestamp ?? now);
          }
          total += p.records.length;
        } else {
          const view = new DataView(p.encoded.buffer, p.encoded.byteOffset, p.encoded.byteLength);
          for (let i = 0, at = 0; i < p.partitions.length; i++) {
            const size = view.getUint32(at, true);
            const log = logs[p.partitions[i]!]!;
            touch(log);
            log.stage.addEntry(p.encoded.subarray(at, at + size), log.partition, log.endOffset + log.stage.count, now);
            at += size;
          }
          total += p.partitions.length;
        }
      }
    } catch (err) {
      // Validation in send/sendEncoded makes this unreachable in practice; never leave callers hanging.
      for (const log of touched) {
        log.stage.reset();
        log.inFlush = false;
      }
      const e = appendFailed(`append failed while framing records: ${(err as Error).message}`, err);
      for (const p of queue) p.reject(e);
      return;
    }

    const marks: Array<[PartitionLog, AppendMark]> = [];
    const bytesBefore = touched.map((l) => l.stage.byteLength);
    let failure: unknown = null;
    for (const log of touched) {
      if (failure !== null) {
        log.stage.reset();
        continue;
      }
      try {
        marks.push([log, log.appendStaged(now)]);
      } catch (err) {
        failure = err;
      }
    }
    for (const log of touched) log.inFlush = false;

    if (failure !== null) {
      for (let i = marks.length - 1; i >= 0; i--) {
        const [log, mark] = marks[i]!;
        try {
          log.rollback(mark);
        } catch (err) {
          this.#log.error({ err, topic: log.topic, partition: log.partition }, 'could not roll back a partition after a failed append');
        }
      }
      this.#log.error({ err: failure, records: total }, 'append failed');
      const closed = failure instanceof HeraldError && failure.code === 'HERALD_LOG_CLOSED';
      const err = closed ? failure : appendFailed(`append of ${total} records failed: ${(failure as Error).message}`, failure);
      for (const p of queue) p.reject(err);
      return;
    }

    for (const p of queue) {
      if (p.kind === 0) {
        const topic = p.topic.name;
        const out = new Array<RecordMetadata>(p.records.length);
        for (let i = 0; i < out.length; i++) {
          const log = p.logs[i]!;
          out[i] = { topic, partition: log.partition, offset: log.lastAppendBase + p.index[i]! };
        }
        p.resolve(out);
      } else {
        p.resolve();
      }
    }
    flushRecords.observe(total);
    for (let i = 0; i < touched.length; i++) {
      const log = touched[i]!;
      appendedRecords.labels(log.topic).inc(log.endOffset - log.lastAppendBase);
      appendedBytes.labels(log.topic).inc(bytesBefore[i]!);
      log.notify();
    }
  }
}
