/**
 * Identifiers: notification ids are UUIDv7 (RFC 9562 §5.7): 48-bit Unix ms timestamp, then
 * a monotonic counter seeded randomly per ms (the `uuid` package keeps them strictly increasing
 * within a process), so ids sort by creation time and `published_at` is derived from the id.
 * topic_id and user_id are client-chosen strings checked by {@link ID_PATTERN}.
 */
import { v7 as uuidv7 } from 'uuid';

/** topic_id / user_id: 1–128 characters of letters, digits and `._:-`. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** True when `value` is a valid topic_id or user_id. */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** True when `value` is a UUIDv7 string (hex digits in either case). */
export function isUuidV7(value: string): boolean {
  return UUID_V7.test(value);
}

/** Any RFC 9562 UUID string, 8-4-4-4-12 hex digits (either case). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True when `value` has the form of a notification id: a UUID string (Herald makes UUIDv7s;
 * the check accepts any version so a lookup of a foreign id answers "nothing" rather than 400).
 * Compare ids in lower case: Herald writes them so, and UUIDs compare case-insensitively.
 */
export function isNotificationId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** A new notification id and its publish time (ms since the epoch, from the id itself). */
export function newNotificationId(): { id: string; publishedAtMs: number } {
  const id = uuidv7();
  return { id, publishedAtMs: uuidV7Timestamp(id) };
}

/**
 * The ms timestamp in the first 48 bits of a UUIDv7 (RFC 9562 §5.7).
 * @returns ms since the epoch, or NaN when `id` is not a UUIDv7
 */
export function uuidV7Timestamp(id: string): number {
  if (!isUuidV7(id)) return Number.NaN;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** ISO 8601 UTC with milliseconds, e.g. `2026-11-29T15:00:00.000Z`. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}
