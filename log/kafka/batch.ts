/**
 * A {@link FetchedBatch} built from librdkafka messages of one partition: the records are
 * framed once into one buffer (record-codec), which crosses to worker threads as is.
 */
import { RecordCursor, RecordsEncoder, type EncodedRecords } from '../record-codec.ts';
import type { FetchedBatch, LogRecord } from '../types.ts';

/** The subset of a librdkafka message Herald reads. */
export interface KafkaMessage {
  topic: string;
  partition: number;
  offset: number;
  timestamp?: number;
  key?: Buffer | string | null;
  value: Buffer | null;
}

/** A batch of consecutive (read_committed, so possibly gapped) records of one partition. */
export class KafkaBatch implements FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly count: number;
  readonly highWatermark: number;
  readonly encoded: EncodedRecords;

  /**
   * @param messages at least one message, all of `topic`/`partition`, in offset order
   * @param highWatermark log end offset known to the client (-1 when unknown: last + 1 is used)
   */
  constructor(messages: readonly KafkaMessage[], highWatermark: number, encoder: RecordsEncoder = new RecordsEncoder()) {
    const first = messages[0]!;
    const last = messages[messages.length - 1]!;
    this.topic = first.topic;
    this.partition = first.partition;
    this.firstOffset = first.offset;
    this.lastOffset = last.offset;
    this.count = messages.length;
    this.highWatermark = Math.max(highWatermark, last.offset + 1);
    encoder.reset();
    for (const m of messages) {
      encoder.add(m.key ?? null, m.value ?? new Uint8Array(0), m.partition, m.timestamp ?? 0, m.offset);
    }
    this.encoded = encoder.finish();
  }

  /** Decodes the records; `key` and `value` are views into `encoded`. */
  *records(): Iterable<LogRecord> {
    const c = new RecordCursor(this.encoded);
    while (c.next()) yield { topic: this.topic, partition: c.partition, offset: c.offset, timestamp: c.timestamp, key: c.keyBytes(), value: c.valueBytes() };
  }
}
