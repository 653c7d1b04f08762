/**
 * The operator API (Kafka Streams' `processor.api`, batch-shaped): what an operator or a sink of
 * a stage sees and what it returns. Operators are pure with respect to transports: they get a
 * batch of in-chain records and return the survivors; they reach stores through the interfaces
 * of stores/types.ts only, and they never open or close a store (the runtime owns them).
 *
 * Life cycle of one operator instance (one per stage per worker thread):
 * `init(context)` once → `process(batch, context)` per batch → `close()` when the worker stops.
 */
import { HeraldError, type ErrorCode, type HeraldErrorOptions } from '../core/errors.ts';
import type { PublishRecord } from '../core/types.ts';
import type { EncodedRecords } from '../log/record-codec.ts';
import type { DedupStore, SubscriptionStore } from '../stores/types.ts';
import type { CompiledOperator, CompiledSink, CompiledStage } from '../topology/types.ts';
import type { DeadLetter, OperatorTaskStats } from './task.ts';

/** The stores an operator may use, as interfaces (the runtime opens and closes them). */
export interface OperatorStores {
  subscriptions: SubscriptionStore;
  dedup: DedupStore;
}

/** Given once to {@link Operator.init}: what does not change between batches. */
export interface OperatorInitContext {
  stage: CompiledStage;
  /** This operator's node in the compiled topology (name, type, validated options). */
  node: CompiledOperator;
  stores: OperatorStores;
}

/**
 * One in-chain record: a decoded publish-log record plus what the operators attached to it.
 * Objects are created once per source record; operators fill fields in place.
 */
export interface ChainRecord {
  /** Offset of the record in the source partition (DLQ entries and confirmations name it). */
  offset: number;
  /** Timestamp of the source record, ms since the epoch (copied onto the output records). */
  timestamp: number;
  /** The decoded publish record. */
  value: PublishRecord;
  /** `value.published_at` as ms since the epoch. */
  publishedAtMs: number;
  /**
   * For a fan-out page record (herald.fanout-pages): the only subscribers this record fans out
   * to are those in this user-hash bucket. Null for a publish record.
   */
  bucket: { index: number; count: number } | null;
  /**
   * Set by subscription-join: the topic is too large to fan out inline, so the fanout-pages sink
   * splits the record into one page record per bucket instead (`recipients` stays null).
   */
  paged: boolean;
  /** Recipients' user_ids, set by subscription-join (null before the join; may be shared between records: read-only). */
  recipients: string[] | null;
  /**
   * Set by user-repartition: the Notification JSON (UTF-8) shared by every recipient, and per
   * recipient (same index as `recipients`) its user-log partition and key bytes (UTF-8 user_id,
   * shared between records: read-only).
   */
  routed: { log: string; value: Uint8Array; partitions: Int32Array; keys: Uint8Array[] } | null;
}

/** Side outputs of one batch, filled by operators and sinks, returned to the runtime. */
export interface BatchCollector {
  deadLetters: DeadLetter[];
  /**
   * Dedup keys first seen in this batch, of the batch's partition at its `nowMs` (the runtime
   * confirms them once outputs are durable).
   */
  confirmations: string[];
  /** Output buffers by destination log. */
  outputs: { log: string; records: EncodedRecords }[];
  stats: OperatorTaskStats;
}

/** Given to every {@link Operator.process} call: the batch's partition, clock and state. */
export interface BatchContext {
  /** Source partition of the batch. */
  partition: number;
  /** Processing time of the batch, ms since the epoch. */
  nowMs: number;
  /** This operator's per-partition state (shared memory), or undefined when it keeps none. */
  state: SharedArrayBuffer | undefined;
  /** Partition counts of the logs the stage writes, by log name. */
  partitionCounts: Record<string, number>;
  collector: BatchCollector;
}

/**
 * An operator: batch in → batch out. It may drop records (return fewer), fill fields of the
 * records, and add dead letters, confirmations and stats to `context.collector`.
 * To send one record to the DLQ it throws {@link DeadLetterRecord} from a per-record step run
 * by {@link forEachRecord}; any other error fails the whole batch (the runtime retries it or
 * applies the stage's error policy).
 */
export interface Operator {
  init(context: OperatorInitContext): void | Promise<void>;
  /** @returns the records that go on to the next operator, in input order. */
  process(batch: ChainRecord[], context: BatchContext): ChainRecord[] | Promise<ChainRecord[]>;
  /** Releases what init acquired. Never closes stores (the runtime owns them). */
  close(): void | Promise<void>;
}

/** Given once to {@link Sink.init}. */
export interface SinkInitContext {
  stage: CompiledStage;
  node: CompiledSink;
}

/** The terminal node of a chain: turns the surviving records into output buffers. */
export interface Sink {
  init(context: SinkInitContext): void | Promise<void>;
  /** Appends the batch's output buffers to `context.collector.outputs`. */
  write(batch: ChainRecord[], context: BatchContext): void | Promise<void>;
  close(): void | Promise<void>;
}

/**
 * Control-flow error (BullMQ style): thrown by a per-record step to send that one record to the
 * stage's DLQ; the rest of the batch goes on. Code defaults to HERALD_OPERATOR_RECORD_INVALID.
 */
export class DeadLetterRecord extends HeraldError {
  constructor(message: string, code: ErrorCode = 'HERALD_OPERATOR_RECORD_INVALID', options: HeraldErrorOptions = {}) {
    super(code, message, options);
    this.name = 'DeadLetterRecord';
  }
}

/**
 * Runs `step` on every record and keeps the records it did not reject: a {@link DeadLetterRecord}
 * moves that record to `collector.deadLetters` (with its offset, key = topic_id and value as
 * JSON); any other error propagates and fails the batch.
 * @returns the records for which `step` returned true
 */
export function forEachRecord(batch: ChainRecord[], collector: BatchCollector, step: (record: ChainRecord) => boolean): ChainRecord[] {
  const kept: ChainRecord[] = [];
  for (const record of batch) {
    try {
      if (step(record)) kept.push(record);
    } catch (err) {
      if (!(err instanceof DeadLetterRecord)) throw err;
      collector.deadLetters.push({
        offset: record.offset,
        code: err.code,
        message: err.message,
        key: record.value.topic_id,
        value: JSON.stringify(record.value),
      });
    }
  }
  return kept;
}
