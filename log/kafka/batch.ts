/**
 * Builds the {@link FetchedBatch} of librdkafka messages of one partition: the records are framed
 * once into one buffer (record-codec), which crosses to worker threads as is.
 */
import { EncodedBatch } from '../encoded-batch.ts';
import { RecordsEncoder } from '../record-codec.ts';

/** The subset of a librdkafka message Herald reads. */
export interface KafkaMessage {
  topic: string;
  partition: number;
  offset: number;
  timestamp?: number;
  key?: Buffer | string | null;
  value: Buffer | null;
}

/**
 * @param messages at least one message, all of one topic and partition, in offset order
 *   (read_committed: offsets may have gaps)
 * @param highWatermark log end offset known to the client (-1 when unknown: last + 1 is used)
 * @param encoder reused between batches to avoid allocation
 */
export function kafkaBatch(messages: readonly KafkaMessage[], highWatermark: number, encoder: RecordsEncoder = new RecordsEncoder()): EncodedBatch {
  const first = messages[0]!;
  const last = messages[messages.length - 1]!;
  encoder.reset();
  for (const m of messages) encoder.add(m.key ?? null, m.value ?? new Uint8Array(0), m.partition, m.timestamp ?? 0, m.offset);
  return new EncodedBatch(first.topic, first.partition, first.offset, last.offset, messages.length, Math.max(highWatermark, last.offset + 1), encoder.finish());
}
