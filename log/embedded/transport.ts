/**
 * The embedded log transport: durable partitioned log topics on local disk with in-process
 * consumer groups. Layout under `<dataDir>/log/`:
 * ```
 * <topic>/topic.json                    partition count, retention (atomic tmp + rename)
 * <topic>/<partition>/<base:20>.log     segment files, record-codec framing
 * _offsets/<group>.json                 committed offsets per consumer group
 * ```
 * Opening recovers every partition synchronously (see recovery.ts).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../../core/errors.ts';
import { logger, type Logger } from '../../core/logger.ts';
import type { ConsumerOptions, FetchedBatch, LogConsumer, LogProducer, LogTopicSpec } from '../types.ts';
import { Appender } from './appender.ts';
import { EncodedBatch } from '../encoded-batch.ts';
import { EmbeddedConsumer } from './consumer.ts';
import { ConsumerGroup } from './consumer-group.ts';
import { segmentsDeleted } from './metrics.ts';
import { OffsetStore } from './offset-store.ts';
import { EmbeddedProducer } from './producer.ts';
import { TopicLog, assertTopicName } from './topic-log.ts';
import type { EmbeddedLogTransport, ResolvedEmbeddedOptions } from './types.ts';

/** Records per batch handed by readToEnd. */
const READ_TO_END_BATCH_RECORDS = 1000;

const OFFSETS_DIR = '_offsets';

/** See {@link EmbeddedLogTransport}. */
export class EmbeddedTransport implements EmbeddedLogTransport {
  readonly kind = 'embedded' as const;
  readonly options: Readonly<ResolvedEmbeddedOptions>;
  readonly #root: string;
  readonly #log: Logger;
  readonly #topics = new Map<string, TopicLog>();
  readonly #groups = new Map<string, ConsumerGroup>();
  readonly #consumers = new Set<EmbeddedConsumer>();
  readonly #producers = new Set<EmbeddedProducer>();
  readonly #appender: Appender;
  /** Appends of consumer batch outputs; created with the first consumer. */
  #batchProducer: LogProducer | null = null;
  readonly #retentionTimer: NodeJS.Timeout;
  #closing: Promise<void> | null = null;

  /**
   * Opens `<dataDir>/log`, recovering every topic found there.
   * @throws HeraldError HERALD_LOG_CORRUPT; fs errors (EACCES, ...)
   */
  constructor(options: ResolvedEmbeddedOptions) {
    this.options = Object.freeze({ ...options });
    this.#root = join(options.dataDir, 'log');
    this.#log = logger.child({ module: 'log.embedded', dataDir: options.dataDir });
    mkdirSync(this.#root, { recursive: true });
    try {
      for (const entry of readdirSync(this.#root, { withFileTypes: true })) {
        if (!entry.isDirectory() || entry.name === OFFSETS_DIR) continue;
        const topic = TopicLog.open(join(this.#root, entry.name), this.#partitionSettings(), this.#log);
        if (topic === null) {
          this.#log.warn({ dir: entry.name }, 'ignoring log topic directory without topic.json (creation did not finish)');
          continue;
        }
        this.#topics.set(topic.name, topic);
      }
    } catch (err) {
      for (const t of this.#topics.values()) t.close();
      throw err;
    }
    this.#appender = new Appender(this.#log);
    this.#retentionTimer = setInterval(() => this.deleteExpiredSegments(), options.retentionCheckMs);
    this.#retentionTimer.unref();
    this.#log.info({ topics: [...this.#topics.keys()] }, 'embedded log opened');
  }

  #partitionSettings(): { segmentBytes: number; fsync: boolean } {
    return { segmentBytes: this.options.segmentBytes, fsync: this.options.fsync === 'batch' };
  }

  #assertOpen(): void {
    if (this.#closing !== null) throw new HeraldError('HERALD_LOG_CLOSED', 'embedded log transport is closed');
  }

  #topic(name: string): TopicLog {
    this.#assertOpen();
    const t = this.#topics.get(name);
    if (t === undefined) throw new HeraldError('HERALD_LOG_TOPIC_UNKNOWN', `log topic ${JSON.stringify(name)} does not exist`);
    return t;
  }

  /**
   * Creates missing topics (partition dirs, then topic.json). Existing topics are left as they
   * are (a different partition count or retention is logged, not applied).
   * Rejects with HERALD_CONFIG_INVALID (bad spec), HERALD_LOG_CLOSED, or the fs error.
   */
  async ensureTopics(specs: LogTopicSpec[]): Promise<void> {
    this.#assertOpen();
    for (const spec of specs) {
      assertTopicName(spec.name);
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1 || spec.partitions > 10_000) {
        throw new HeraldError('HERALD_CONFIG_INVALID', `log topic ${spec.name}: partitions must be an integer in [1, 10000]`);
      }
      if (spec.retentionMs !== undefined && !(Number.isInteger(spec.retentionMs) && spec.retentionMs > 0)) {
        throw new HeraldError('HERALD_CONFIG_INVALID', `log topic ${spec.name}: retentionMs must be a positive integer (ms)`);
      }
    }
    for (const spec of specs) {
      const existing = this.#topics.get(spec.name);
      const retentionMs = spec.retentionMs ?? this.options.retentionMs;
      if (existing !== undefined) {
        if (existing.meta.partitions !== spec.partitions || (spec.retentionMs !== undefined && existing.meta.retentionMs !== retentionMs)) {
          this.#log.warn({ topic: spec.name, existing: existing.meta, requested: spec }, 'log topic exists with other settings; keeping the existing ones');
        }
        continue;
      }
      const meta = { version: 1 as const, name: spec.name, partitions: spec.partitions, retentionMs };
      this.#topics.set(spec.name, TopicLog.create(join(this.#root, spec.name), meta, this.#partitionSettings(), this.#log));
      this.#log.info({ topic: spec.name, partitions: spec.partitions, retentionMs }, 'created log topic');
    }
  }

  /** Partition count of `topic`. @throws HeraldError HERALD_LOG_TOPIC_UNKNOWN, HERALD_LOG_CLOSED */
  partitionCount(topic: string): number {
    return this.#topic(topic).meta.partitions;
  }

  /** See {@link LogTransport.readToEnd}. */
  async readToEnd(topic: string, partition: number, onBatch: (batch: FetchedBatch) => Promise<void> | void): Promise<number> {
    const p = this.#topic(topic).partitions[partition];
    if (p === undefined) throw new HeraldError('HERALD_LOG_TOPIC_UNKNOWN', `log topic ${topic} has no partition ${partition}`);
    const end = p.endOffset;
    let position = p.logStartOffset;
    let read = 0;
    while (position < end) {
      const slice = p.read(position, READ_TO_END_BATCH_RECORDS, 1024 * 1024);
      if (slice === null) break;
      const count = Math.min(slice.count, end - position);
      await onBatch(new EncodedBatch(topic, partition, slice.firstOffset, slice.firstOffset + slice.count - 1, slice.count, end, slice.encoded));
      position += slice.count;
      read += count;
    }
    return read;
  }

  /** @see EmbeddedLogTransport.offsets */
  offsets(topic: string, partition: number): { logStartOffset: number; endOffset: number } {
    const p = this.#topic(topic).partitions[partition];
    if (p === undefined) throw new HeraldError('HERALD_LOG_TOPIC_UNKNOWN', `log topic ${topic} has no partition ${partition}`);
    return { logStartOffset: p.logStartOffset, endOffset: p.endOffset };
  }

  /** A producer sharing the transport's group-commit appender. @throws HeraldError HERALD_LOG_CLOSED */
  createProducer(): LogProducer {
    this.#assertOpen();
    const producer: EmbeddedProducer = new EmbeddedProducer({
      appender: this.#appender,
      topic: (name) => this.#topic(name),
      forget: (p) => this.#producers.delete(p),
    });
    this.#producers.add(producer);
    return producer;
  }

  /**
   * A member of consumer group `options.groupId` (in-process coordinator).
   * @throws HeraldError HERALD_LOG_CLOSED, HERALD_LOG_TOPIC_UNKNOWN, HERALD_CONFIG_INVALID
   */
  createConsumer(options: ConsumerOptions): LogConsumer {
    this.#assertOpen();
    const consumer: EmbeddedConsumer = new EmbeddedConsumer(options, {
      topic: (name) => this.#topic(name),
      group: (groupId) => this.#group(groupId),
      retryBackoffMs: this.options.retryBackoffMs,
      retryBackoffMaxMs: this.options.retryBackoffMaxMs,
      log: this.#log,
      producer: () => (this.#batchProducer ??= this.createProducer()),
      forget: (c) => this.#consumers.delete(c),
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  #group(groupId: string): ConsumerGroup {
    let g = this.#groups.get(groupId);
    if (g === undefined) {
      const store = new OffsetStore(join(this.#root, OFFSETS_DIR), groupId, this.options.commitFlushMs, this.options.fsync === 'batch', this.#log);
      g = new ConsumerGroup(groupId, store, this.options.assignment, (t) => this.#topics.get(t)?.meta.partitions ?? 0, this.#log);
      this.#groups.set(groupId, g);
    }
    return g;
  }

  /** @see EmbeddedLogTransport.deleteExpiredSegments */
  deleteExpiredSegments(now: number = Date.now()): number {
    if (this.#closing !== null) return 0;
    let deleted = 0;
    for (const t of this.#topics.values()) {
      let n = 0;
      for (const p of t.partitions) n += p.deleteExpired(now);
      if (n > 0) segmentsDeleted.labels(t.name).inc(n);
      deleted += n;
    }
    return deleted;
  }

  /**
   * Closes consumers (in-flight batches finish and commit), producers (queued sends are written),
   * persists committed offsets and closes the files. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#retentionTimer);
      await Promise.all([...this.#consumers].map((c) => c.close()));
      await Promise.all([...this.#producers].map((p) => p.close()));
      await this.#appender.drain();
      for (const g of this.#groups.values()) g.offsets.flush();
      for (const t of this.#topics.values()) t.close();
      this.#log.info('embedded log closed');
    })();
    return this.#closing;
  }
}
