/**
 * The {@link FetchedBatch} handed to consumer handlers by every transport: records in the
 * record-codec framing (offsets and timestamps stamped) in a buffer that owns its ArrayBuffer,
 * decoded lazily. Embedded: a slice of segment bytes; Kafka: librdkafka messages framed once.
 */
import { RecordCursor, type EncodedRecords } from './record-codec.ts';
import type { FetchedBatch, LogRecord } from './types.ts';

/** A fetched batch of one partition. */
export class EncodedBatch implements FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly count: number;
  readonly highWatermark: number;
  readonly encoded: EncodedRecords;

  /**
   * @param lastOffset offset of the last record (Kafka's read_committed batches may have gaps:
   *   transaction markers and aborted records occupy offsets)
   */
  constructor(topic: string, partition: number, firstOffset: number, lastOffset: number, count: number, highWatermark: number, encoded: EncodedRecords) {
    this.topic = topic;
    this.partition = partition;
    this.firstOffset = firstOffset;
    this.lastOffset = lastOffset;
    this.count = count;
    this.highWatermark = highWatermark;
    this.encoded = encoded;
  }

  /**
   * Decodes the records one by one. `key` and `value` are views into `encoded` (no copy):
   * read them before transferring `encoded` to another thread.
   */
  *records(): Iterable<LogRecord> {
    const c = new RecordCursor(this.encoded);
    while (c.next()) {
      yield { topic: this.topic, partition: c.partition, offset: c.offset, timestamp: c.timestamp, key: c.keyBytes(), value: c.valueBytes() };
    }
  }
}
