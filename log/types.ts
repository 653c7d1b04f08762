/**
 * The log-transport interface: what every profile's log (embedded on-disk log, Apache Kafka)
 * implements. Vocabulary follows Kafka: log topic, partition, offset, consumer group.
 *
 * Offsets are JS numbers (safe to 2^53 records per partition). Keys and values are bytes.
 * Partitioning uses Kafka's murmur2 partitioner (see log/murmur2.ts), so one key maps to the
 * same partition number on every profile.
 */
import type { EncodedRecords } from './record-codec.ts';

/** A log topic to create (idempotent): name and partition count. */
export interface LogTopicSpec {
  name: string;
  /** Number of partitions (>= 1). */
  partitions: number;
  /** Time-based retention of records, ms. Default: the transport's (7 days). */
  retentionMs?: number;
  /** Keep only the newest record per key, besides retention (changelog topics). Default false. */
  compact?: boolean;
}

/** One record to append. `partition` overrides the murmur2(key) choice when set. */
export interface ProduceRecord {
  /** Partitioning key (UTF-8). A null key goes to partition 0. */
  key: string | null;
  value: Uint8Array | string;
  partition?: number;
  /** Record timestamp, ms since the epoch. Default: now. */
  timestamp?: number;
}

/** Where an appended record landed. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

/** One record as read by a consumer. */
export interface LogRecord {
  topic: string;
  partition: number;
  offset: number;
  /** ms since the epoch. */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array;
}

/**
 * A batch of consecutive records of one partition, handed to a consumer's handler.
 * `encoded` holds the records in the record-codec framing (transferable to a worker thread
 * as one buffer, no per-record objects); `records()` decodes them lazily on the caller's thread.
 */
export interface FetchedBatch {
  topic: string;
  partition: number;
  /** Offset of the first record in the batch. */
  firstOffset: number;
  /** Offset of the last record in the batch. */
  lastOffset: number;
  /** Number of records. */
  count: number;
  /** Offset the next append to this partition will get (log end offset) at fetch time. */
  highWatermark: number;
  encoded: EncodedRecords;
  records(): Iterable<LogRecord>;
}

/** A partition of a log topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Committed position and end of one partition for one consumer group (lag = end - committed). */
export interface PartitionLag extends TopicPartition {
  committedOffset: number;
  highWatermark: number;
  lag: number;
}

/** Options of a consumer in a consumer group. */
export interface ConsumerOptions {
  /** Consumer group id: members of one group share the partitions of `topics`. */
  groupId: string;
  topics: string[];
  /** Max records per handed batch. Default 1000. */
  maxBatchRecords?: number;
  /** Max bytes of record framing per batch. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Where to start when the group has no committed offset: 'earliest' (default) or 'latest'. */
  fromBeginning?: boolean;
  /** Called after partitions are assigned to this member, before any batch of them is handed. */
  onAssigned?: (partitions: TopicPartition[]) => Promise<void> | void;
  /** Called before partitions are taken away (rebalance, close); in-flight batches have finished. */
  onRevoked?: (partitions: TopicPartition[]) => Promise<void> | void;
  /**
   * Consume-process-produce exactly once: the handler's {@link BatchOutput} appends and the
   * batch's offsets commit in one transaction (Kafka). The embedded log ignores it (its stages
   * are at-least-once with idempotent sinks). Default false.
   */
  exactlyOnce?: boolean;
}

/**
 * Where a batch handler writes what the batch produced. With an exactly-once consumer (Kafka,
 * `exactlyOnce: true`) the appends and the batch's source offsets commit in one Kafka transaction
 * (KIP-98, KIP-447): either all become visible to read_committed readers or none do. Otherwise
 * (embedded log, or an at-least-once consumer) appends are written at once, and the offsets are
 * committed after the handler resolved.
 */
export interface BatchOutput {
  /** Appends records to `topic` as part of this batch. Resolves when accepted (not yet visible). */
  append(topic: string, records: ProduceRecord[]): Promise<void>;
  /** Same as `append` for records already in the record-codec framing. */
  appendEncoded(topic: string, records: EncodedRecords): Promise<void>;
  /**
   * Runs `fn` once the batch's appends are durable and before its offsets are committed
   * (at-least-once) or right after its transaction committed (exactly-once). Local state derived
   * from the batch (e.g. the dedup confirm store) is written here, so an aborted batch never
   * leaves it behind. A rejection makes the batch be handed again.
   */
  onCommitted(fn: () => Promise<void> | void): void;
}

/**
 * Handler of one batch. Batches of one partition are handed one at a time, in offset order;
 * batches of different partitions may run concurrently. When the returned promise resolves, the
 * consumer commits `lastOffset + 1` for the group. When it rejects, the consumer commits nothing for
 * that batch, pauses the partition and hands the same records again after a backoff
 * (at-least-once).
 */
export type BatchHandler = (batch: FetchedBatch, output: BatchOutput) => Promise<void>;

/** A member of a consumer group. */
export interface LogConsumer {
  /** Starts fetching and handing batches to `handler`. Resolves once the member has joined. */
  run(handler: BatchHandler): Promise<void>;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /** Lag of every partition of the subscribed topics for this group. */
  lag(): Promise<PartitionLag[]>;
  /** Stops fetching, waits for in-flight batches, commits, leaves the group. */
  close(): Promise<void>;
}

/** Appends records to log topics. */
export interface LogProducer {
  /**
   * Appends records to `topic`. Resolves when every record is durable (embedded: written to the
   * segment file; Kafka: acknowledged by all in-sync replicas). Records with the same key keep
   * their order. Rejects with HERALD_LOG_APPEND_FAILED (nothing of the call may be assumed written).
   */
  send(topic: string, records: ProduceRecord[]): Promise<RecordMetadata[]>;
  /** Same as `send` for records already in the record-codec framing (e.g. from a worker thread). */
  sendEncoded(topic: string, records: EncodedRecords): Promise<void>;
  close(): Promise<void>;
}

/** A log transport: the embedded on-disk log or Apache Kafka. */
export interface LogTransport {
  readonly kind: 'embedded' | 'kafka';
  /** Creates the log topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(specs: LogTopicSpec[]): Promise<void>;
  /** Partition count of an existing topic. Throws HERALD_LOG_TOPIC_UNKNOWN. */
  partitionCount(topic: string): number;
  createProducer(): LogProducer;
  createConsumer(options: ConsumerOptions): LogConsumer;
  /**
   * Reads one partition without a consumer group, from its earliest retained record up to its end
   * at the time of the call (Kafka: read_committed, up to the last stable offset), handing batches
   * in offset order. Restores state stores from changelog topics. Resolves with the records read.
   * @throws HeraldError HERALD_LOG_TOPIC_UNKNOWN, HERALD_LOG_BROKER_UNAVAILABLE
   */
  readToEnd(topic: string, partition: number, onBatch: (batch: FetchedBatch) => Promise<void> | void): Promise<number>;
  /** Closes every producer and consumer made by this transport. */
  close(): Promise<void>;
}
