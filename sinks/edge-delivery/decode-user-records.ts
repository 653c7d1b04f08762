/**
 * Decoding a batch of user-log records (key = user_id, value = Notification JSON) into inbox
 * entries. Consecutive records of one fan-out carry identical value bytes, so the JSON of a run
 * of equal values is parsed once.
 */
import type { Notification } from '../../core/types.ts';
import { RecordCursor, type EncodedRecords } from '../../log/record-codec.ts';
import type { InboxEntry } from '../../stores/types.ts';

/** A record that could not be decoded. */
export interface UndecodableRecord {
  /** Position of the record in the batch. */
  index: number;
  offset: number;
  key: string | null;
  value: string;
  message: string;
}

/** Entries to store, the batch position of each, and the records that failed to decode. */
export interface DecodedUserRecords {
  entries: InboxEntry[];
  /** `positions[i]` = index in the batch of `entries[i]`. */
  positions: number[];
  invalid: UndecodableRecord[];
  /** Records in the batch. */
  count: number;
}

function toNotification(value: unknown): Notification {
  const n = value as Partial<Notification> | null;
  if (typeof n !== 'object' || n === null || typeof n.id !== 'string' || typeof n.topic_id !== 'string' || typeof n.published_at !== 'string') {
    throw new Error('the value is not a Notification {id, topic_id, message, published_at}');
  }
  if (typeof n.message !== 'string' && (typeof n.message !== 'object' || n.message === null || Array.isArray(n.message))) {
    throw new Error('the notification message must be a string or a JSON object');
  }
  if (n.id === '' || n.topic_id === '') throw new Error('the notification id and topic_id must not be empty');
  if (!Number.isFinite(Date.parse(n.published_at))) throw new Error(`published_at is not a date: ${JSON.stringify(n.published_at).slice(0, 40)}`);
  return n as Notification;
}

/** Decodes every record of `records`; the seq of an entry is its user-log offset. */
export function decodeUserRecords(records: EncodedRecords): DecodedUserRecords {
  const out: DecodedUserRecords = { entries: [], positions: [], invalid: [], count: 0 };
  const cursor = new RecordCursor(records);
  let lastValue: string | null = null;
  let lastNotification: Notification | null = null;
  let lastError: string | null = null;
  for (let index = 0; cursor.next(); index++) {
    out.count++;
    const key = cursor.keyString();
    const value = cursor.valueString();
    if (value !== lastValue) {
      lastValue = value;
      try {
        lastNotification = toNotification(JSON.parse(value));
        lastError = null;
      } catch (err) {
        lastNotification = null;
        lastError = (err as Error).message;
      }
    }
    if (key === null || lastNotification === null) {
      out.invalid.push({ index, offset: cursor.offset, key, value, message: key === null ? 'the record has no key (user_id)' : lastError! });
      continue;
    }
    out.entries.push({ user_id: key, notification: lastNotification, seq: cursor.offset });
    out.positions.push(index);
  }
  return out;
}
