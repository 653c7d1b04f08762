/**
 * The opaque cursor of GET /notifications: the (published_at ms, id) of the last item of a page.
 *
 * Wire form: base64url of `h1.<published_at ms>.<id>.<check>` where `check` is the first 8 hex
 * digits of the SHA-256 of the rest. The check catches truncation and hand-edited cursors; it is
 * not a secret (a cursor only positions a query that stays scoped to the caller's user).
 * The `h1` version lets a later format be told apart.
 */
import { createHash } from 'node:crypto';
import { HeraldError } from '../../core/errors.ts';

/** Position after which the next page starts. */
export interface InboxCursor {
  /** published_at of the last item returned, ms since the epoch. */
  publishedAtMs: number;
  /** id of the last item returned. */
  id: string;
}

const VERSION = 'h1';
const MAX_CURSOR_CHARS = 512;

function check(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 8);
}

/** Encodes a cursor (URL-safe, no padding). */
export function encodeInboxCursor(cursor: InboxCursor): string {
  const body = `${VERSION}.${cursor.publishedAtMs}.${cursor.id}`;
  return Buffer.from(`${body}.${check(body)}`, 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeInboxCursor}. Throws `HERALD_EDGE_CURSOR_INVALID` for anything else. */
export function decodeInboxCursor(text: string): InboxCursor {
  const invalid = (why: string): HeraldError => new HeraldError('HERALD_EDGE_CURSOR_INVALID', `cursor is invalid: ${why}`);
  if (text.length === 0 || text.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid('not base64url');
  const decoded = Buffer.from(text, 'base64url');
  // Buffer decoding is lenient: require the exact canonical encoding back.
  if (decoded.toString('base64url') !== text) throw invalid('not canonical base64url');
  const raw = decoded.toString('utf8');
  const first = raw.indexOf('.');
  const second = raw.indexOf('.', first + 1);
  const last = raw.lastIndexOf('.');
  if (first < 0 || second < 0 || last <= second) throw invalid('wrong shape');
  const body = raw.slice(0, last);
  if (raw.slice(0, first) !== VERSION) throw invalid('unknown version');
  if (raw.slice(last + 1) !== check(body)) throw invalid('check digits do not match');
  const msText = raw.slice(first + 1, second);
  const id = raw.slice(second + 1, last);
  const publishedAtMs = Number(msText);
  if (!/^-?\d{1,16}$/.test(msText) || !Number.isSafeInteger(publishedAtMs)) throw invalid('bad timestamp');
  if (id.length === 0) throw invalid('empty id');
  return { publishedAtMs, id };
}
