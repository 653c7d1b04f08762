/**
 * A member of a consumer group of the embedded log ({@link LogConsumer}).
 */
import { HeraldError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { BatchHandler, ConsumerOptions, LogConsumer, LogProducer, PartitionLag, TopicPartition } from '../types.ts';
import { tpKey } from './assignment.ts';
import type { ConsumerGroup, GroupMember } from './consumer-group.ts';
import { PartitionRunner, type RunnerContext } from './partition-runner.ts';
import type { PartitionLog } from './partition-log.ts';
import type { TopicLog } from './topic-log.ts';

/** Transport services a consumer uses. */
export interface ConsumerHost {
  /** @throws HeraldError HERALD_LOG_TOPIC_UNKNOWN, HERALD_LOG_CLOSED */
  topic(name: string): TopicLog;
  group(groupId: string): ConsumerGroup;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  log: Logger;
  /** The producer behind each batch's {@link BatchOutput} appends. */
  producer(): LogProducer;
  /** Called once the consumer closed. */
  forget(consumer: EmbeddedConsumer): void;
}

const DEFAULT_MAX_BATCH_RECORDS = 1000;
const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024; // bytes: 1 MiB

let nextMemberSeq = 0;

function validate(options: ConsumerOptions): void {
  const bad = (what: string): never => {
    throw new HeraldError('HERALD_CONFIG_INVALID', `invalid consumer options: ${what}`);
  };
  if (typeof options.groupId !== 'string' || options.groupId.length === 0) bad('groupId: must be a non-empty string');
  if (!Array.isArray(options.topics) || options.topics.length === 0) bad('topics: must be a non-empty array');
  if (options.maxBatchRecords !== undefined && !(Number.isInteger(options.maxBatchRecords) && options.maxBatchRecords >= 1)) bad('maxBatchRecords: must be an integer >= 1');
  if (options.maxBatchBytes !== undefined && !(Number.isInteger(options.maxBatchBytes) && options.maxBatchBytes >= 1)) bad('maxBatchBytes: must be an integer >= 1');
}

/** A consumer-group member. */
export class EmbeddedConsumer implements LogConsumer, GroupMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  readonly #options: ConsumerOptions;
  readonly #host: ConsumerHost;
  readonly #group: ConsumerGroup;
  readonly #runners = new Map<string, PartitionRunner>();
  readonly #log: Logger;
  #ctx: RunnerContext | null = null;
  #closing: Promise<void> | null = null;

  /**
   * @throws HeraldError HERALD_CONFIG_INVALID (bad options), HERALD_LOG_TOPIC_UNKNOWN
   */
  constructor(options: ConsumerOptions, host: ConsumerHost) {
    validate(options);
    for (const t of options.topics) host.topic(t);
    this.#options = options;
    this.#host = host;
    this.topics = [...new Set(options.topics)];
    this.memberId = `${options.groupId}-${++nextMemberSeq}`;
    this.#group = host.group(options.groupId);
    this.#log = host.log.child({ groupId: options.groupId, memberId: this.memberId });
  }

  /**
   * Joins the group and starts handing batches. Resolves once the member joined (its partitions
   * were assigned and onAssigned ran).
   * @throws HeraldError HERALD_LOG_CLOSED after close; Error when already running
   */
  async run(handler: BatchHandler): Promise<void> {
    if (this.#closing !== null) throw new HeraldError('HERALD_LOG_CLOSED', `consumer ${this.memberId} is closed`);
    if (this.#ctx !== null) throw new Error(`consumer ${this.memberId} is already running`);
    this.#ctx = {
      groupId: this.#options.groupId,
      handler,
      maxBatchRecords: this.#options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS,
      maxBatchBytes: this.#options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
      retryBackoffMs: this.#host.retryBackoffMs,
      retryBackoffMaxMs: this.#host.retryBackoffMaxMs,
      commit: (topic, partition, offset) => this.#group.offsets.set(topic, partition, offset),
      producer: this.#host.producer(),
      log: this.#log,
    };
    await this.#group.join(this);
  }

  /** Partitions currently assigned to this member, sorted by topic then partition. */
  assignment(): TopicPartition[] {
    return [...this.#runners.values()]
      .map((r) => ({ topic: r.partition.topic, partition: r.partition.partition }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /**
   * Committed offset, high watermark and lag of every partition of the subscribed topics for
   * this group. Without a commit, `committedOffset` is the log start offset (what 'earliest'
   * would read first).
   * @throws HeraldError HERALD_LOG_CLOSED when the transport is closed
   */
  async lag(): Promise<PartitionLag[]> {
    const out: PartitionLag[] = [];
    for (const name of this.topics) {
      for (const p of this.#host.topic(name).partitions) {
        const committedOffset = this.#group.offsets.get(name, p.partition) ?? p.logStartOffset;
        const highWatermark = p.endOffset;
        out.push({ topic: name, partition: p.partition, committedOffset, highWatermark, lag: Math.max(0, highWatermark - committedOffset) });
      }
    }
    return out;
  }

  /** Stops fetching, waits for in-flight batches, persists commits, leaves the group. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#ctx !== null) await this.#group.leave(this);
      this.#group.offsets.flush();
      this.#host.forget(this);
    })();
    return this.#closing;
  }

  /** @internal GroupMember */
  owned(): ReadonlySet<string> {
    return new Set(this.#runners.keys());
  }

  /** @internal GroupMember: stop runners, then onRevoked. */
  async revoke(keys: string[]): Promise<void> {
    const stopping: Promise<void>[] = [];
    const tps: TopicPartition[] = [];
    for (const k of keys) {
      const r = this.#runners.get(k);
      if (r === undefined) continue;
      this.#runners.delete(k);
      stopping.push(r.stop());
      tps.push({ topic: r.partition.topic, partition: r.partition.partition });
    }
    await Promise.all(stopping);
    if (tps.length === 0) return;
    this.#log.debug({ partitions: tps }, 'partitions revoked');
    try {
      await this.#options.onRevoked?.(tps);
    } catch (err) {
      this.#log.error({ err, partitions: tps }, 'onRevoked failed');
    }
  }

  /** @internal GroupMember: onAssigned, then start runners at the committed offsets. */
  async assign(keys: string[]): Promise<void> {
    const ctx = this.#ctx;
    if (ctx === null || this.#closing !== null) return;
    const parts: PartitionLog[] = [];
    for (const k of keys) {
      const [topic, partition] = k.split('\u0000') as [string, string];
      const p = this.#host.topic(topic).partitions[Number(partition)];
      if (p !== undefined) parts.push(p);
    }
    const tps = parts.map((p) => ({ topic: p.topic, partition: p.partition }));
    this.#log.debug({ partitions: tps }, 'partitions assigned');
    try {
      await this.#options.onAssigned?.(tps);
    } catch (err) {
      this.#log.error({ err, partitions: tps }, 'onAssigned failed');
    }
    const fromBeginning = this.#options.fromBeginning ?? true;
    for (const p of parts) {
      const committed = this.#group.offsets.get(p.topic, p.partition);
      const position = committed ?? (fromBeginning ? p.logStartOffset : p.endOffset);
      const runner = new PartitionRunner(p, position, ctx);
      this.#runners.set(tpKey(p.topic, p.partition), runner);
      runner.start();
    }
  }
}
