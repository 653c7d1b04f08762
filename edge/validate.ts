/**
 * Input checks of the HTTP API. Each throws a HeraldError with a 4xx code and a message that
 * says what to send instead.
 */
import { HeraldError } from '../core/errors.ts';
import { isValidId } from '../core/ids.ts';
import type { Message } from '../core/types.ts';

/** Checks that `body` is a JSON object with exactly the `allowed` keys present or absent. */
export function requireObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HeraldError('HERALD_EDGE_BODY_INVALID', `Send a JSON object with the fields ${allowed.join(', ')}.`);
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new HeraldError('HERALD_EDGE_BODY_INVALID', `Unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the accepted fields are ${allowed.join(', ')}.`);
  }
  return body as Record<string, unknown>;
}

/**
 * Checks a topic_id or user_id.
 * @param where `body` or `query`, for the message
 * @throws HeraldError HERALD_EDGE_ID_INVALID (or HERALD_EDGE_BODY_INVALID / QUERY_INVALID when missing)
 */
export function requireId(value: unknown, field: 'topic_id' | 'user_id', where: 'body' | 'query'): string {
  if (value === undefined || value === null || value === '') {
    throw new HeraldError(where === 'body' ? 'HERALD_EDGE_BODY_INVALID' : 'HERALD_EDGE_QUERY_INVALID', `${field} is required.`);
  }
  if (!isValidId(value)) {
    throw new HeraldError(
      'HERALD_EDGE_ID_INVALID',
      `${field} must be a string of 1-128 letters, digits, ".", "_", ":" or "-" (got ${JSON.stringify(value).slice(0, 80)}).`,
    );
  }
  return value;
}

/** Deepest nesting of objects and arrays accepted in a message. */
export const MAX_MESSAGE_DEPTH = 32;

/** True when `value` nests objects/arrays deeper than `max` (iterative: no stack overflow). */
function depthExceeds(value: object, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Checks a message and measures it.
 * @returns the message and its size in bytes (UTF-8 of the string, or of the object's JSON)
 * @throws HeraldError HERALD_EDGE_BODY_INVALID (wrong type), HERALD_EDGE_MESSAGE_TOO_LARGE
 */
export function requireMessage(value: unknown, maxBytes: number): { message: Message; bytes: number } {
  let bytes: number;
  if (typeof value === 'string') {
    if (value.length === 0) throw new HeraldError('HERALD_EDGE_BODY_INVALID', 'message must not be empty.');
    bytes = Buffer.byteLength(value);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if (depthExceeds(value, MAX_MESSAGE_DEPTH)) {
      throw new HeraldError('HERALD_EDGE_BODY_INVALID', `message nests objects and arrays more than ${MAX_MESSAGE_DEPTH} levels deep; flatten it.`);
    }
    bytes = Buffer.byteLength(JSON.stringify(value));
  } else {
    throw new HeraldError('HERALD_EDGE_BODY_INVALID', `message must be a string or a JSON object (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}).`);
  }
  if (bytes > maxBytes) {
    throw new HeraldError('HERALD_EDGE_MESSAGE_TOO_LARGE', `message is ${bytes} bytes; the limit is ${maxBytes} bytes (HERALD_MAX_MESSAGE_BYTES).`);
  }
  return { message: value as Message, bytes };
}

/**
 * Parses `since`: epoch ms (digits) or an ISO 8601 date-time.
 * @returns ms since the epoch
 * @throws HeraldError HERALD_EDGE_QUERY_INVALID
 */
export function parseSince(raw: string): number {
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  const m = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(raw);
  if (m) {
    const ms = Date.parse(raw);
    // Date.parse rolls 2026-02-30 over to March 2: check the calendar date itself.
    const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    const real = day.getUTCFullYear() === Number(m[1]) && day.getUTCMonth() === Number(m[2]) - 1 && day.getUTCDate() === Number(m[3]);
    if (!Number.isNaN(ms) && real) return ms;
  }
  throw new HeraldError('HERALD_EDGE_QUERY_INVALID', `since must be an ISO 8601 date-time (e.g. 2026-11-29T15:00:00.000Z) or epoch milliseconds (got ${JSON.stringify(raw).slice(0, 60)}).`);
}

/**
 * Parses `limit` (default `def`, 1..max).
 * @throws HeraldError HERALD_EDGE_QUERY_INVALID
 */
export function parseLimit(raw: string | null, def: number, max: number): number {
  if (raw === null) return def;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new HeraldError('HERALD_EDGE_QUERY_INVALID', `limit must be an integer from 1 to ${max} (got ${JSON.stringify(raw).slice(0, 40)}).`);
  }
  return Number(raw);
}

/**
 * Checks an Idempotency-Key header value: 1-255 visible ASCII characters.
 * @throws HeraldError HERALD_EDGE_IDEMPOTENCY_KEY_INVALID
 */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | null {
  if (raw === undefined) return null;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw new HeraldError('HERALD_EDGE_IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1-255 visible ASCII characters (no spaces).');
  }
  return value;
}

/**
 * The single value of query parameter `name`, or null when absent.
 * @throws HeraldError HERALD_EDGE_QUERY_INVALID when it is given more than once
 */
export function queryParam(url: URL, name: string): string | null {
  const all = url.searchParams.getAll(name);
  if (all.length > 1) throw new HeraldError('HERALD_EDGE_QUERY_INVALID', `${name} is given ${all.length} times; give it once.`);
  return all[0] ?? null;
}
