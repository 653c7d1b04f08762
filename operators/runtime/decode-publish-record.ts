/**
 * Decodes a batch of publish-log or fan-out-pages records (record-codec framing, value =
 * PublishRecord / FanoutPageRecord JSON) into
 * in-chain records. A record whose value is not JSON or lacks a valid field becomes a dead letter
 * (HERALD_OPERATOR_RECORD_INVALID, with its source offset); the rest of the batch goes on.
 */
import { isUuidV7, isValidId } from '../../core/ids.ts';
import { CHANNEL_NAMES, type ChannelName, type PublishDelivery, type PublishRecord } from '../../core/types.ts';
import { RecordCursor, type EncodedRecords } from '../../log/record-codec.ts';
import { DeadLetterRecord, type BatchCollector, type ChainRecord } from '../types.ts';

/**
 * Validates one parsed value (a publish record, or a fan-out page record with `fanout_bucket`
 * and `fanout_buckets`). @returns the record, its published_at in ms and its bucket (or null)
 * @throws DeadLetterRecord naming the first invalid field
 */
export function toPublishRecord(value: unknown): { record: PublishRecord; publishedAtMs: number; bucket: { index: number; count: number } | null } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DeadLetterRecord('value is not a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || !isUuidV7(v.id)) throw new DeadLetterRecord('id is not a UUIDv7 string');
  if (!isValidId(v.topic_id)) throw new DeadLetterRecord('topic_id is missing or invalid');
  const m = v.message;
  if (typeof m !== 'string' && (typeof m !== 'object' || m === null || Array.isArray(m))) throw new DeadLetterRecord('message is not a string or an object');
  const publishedAtMs = typeof v.published_at === 'string' ? Date.parse(v.published_at) : Number.NaN;
  if (!Number.isFinite(publishedAtMs)) throw new DeadLetterRecord('published_at is not an ISO 8601 date');
  const key = v.idempotency_key ?? null;
  if (key !== null && typeof key !== 'string') throw new DeadLetterRecord('idempotency_key is not a string or null');
  const record: PublishRecord = { id: v.id, topic_id: v.topic_id, message: m as PublishRecord['message'], published_at: v.published_at as string, idempotency_key: key };
  if (v.delivery !== undefined) record.delivery = toDelivery(v.delivery);
  return { record, publishedAtMs, bucket: toBucket(v.fanout_bucket, v.fanout_buckets) };
}

/**
 * The channel part of a publish record (the edge validated the content; here only its shape, so a
 * hand-written bad record is dead-lettered instead of failing a channel worker later).
 */
function toDelivery(d: unknown): PublishDelivery {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new DeadLetterRecord('delivery is not an object');
  const o = d as Record<string, unknown>;
  if (!Array.isArray(o.channels) || !o.channels.every((c) => CHANNEL_NAMES.includes(c as ChannelName))) throw new DeadLetterRecord(`delivery.channels is not a list of ${CHANNEL_NAMES.join(', ')}`);
  if (typeof o.critical !== 'boolean') throw new DeadLetterRecord('delivery.critical is not a boolean');
  if (typeof o.content !== 'object' || o.content === null || Array.isArray(o.content)) throw new DeadLetterRecord('delivery.content is not an object');
  const t = o.template_id ?? null;
  if (t !== null && typeof t !== 'string') throw new DeadLetterRecord('delivery.template_id is not a string or null');
  return { channels: o.channels as ChannelName[], critical: o.critical, content: o.content as PublishDelivery['content'], template_id: t };
}

/** The bucket of a fan-out page record, or null for a publish record (neither field present). */
function toBucket(index: unknown, count: unknown): { index: number; count: number } | null {
  if (index === undefined && count === undefined) return null;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 65_536) throw new DeadLetterRecord('fanout_buckets is not an integer 1..65536');
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= (count as number)) throw new DeadLetterRecord('fanout_bucket is not an integer 0..fanout_buckets-1');
  return { index: index as number, count: count as number };
}

/**
 * Decodes every entry of `records`; invalid ones go to `collector.deadLetters`.
 * @returns the valid records in offset order
 * @throws RangeError when the framing itself is truncated (the whole buffer is unusable)
 */
export function decodePublishRecords(records: EncodedRecords, collector: BatchCollector): ChainRecord[] {
  const out: ChainRecord[] = [];
  const cursor = new RecordCursor(records);
  let count = 0;
  while (cursor.next()) {
    count++;
    const text = cursor.valueString();
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new DeadLetterRecord('value is not valid JSON');
      }
      const { record, publishedAtMs, bucket } = toPublishRecord(parsed);
      out.push({ offset: cursor.offset, timestamp: cursor.timestamp, value: record, publishedAtMs, bucket, paged: false, recipients: null, routed: null });
    } catch (err) {
      if (!(err instanceof DeadLetterRecord)) throw err;
      collector.deadLetters.push({ offset: cursor.offset, code: err.code, message: err.message, key: cursor.keyString(), value: text });
    }
  }
  collector.stats.recordsIn += count;
  return out;
}
