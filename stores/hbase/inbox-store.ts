/**
 * InboxStore on HBase through the REST gateway (the offline store of the kafka profile).
 *
 * One table (default `herald_inbox`), one column family `n` whose TTL is the retention and which
 * keeps 1 version. Row keys are ASCII, so they also pass the real REST server's path handling:
 *
 *   <salt><user_id>,<kind>,...
 *
 * `<salt>` is one hex digit, `(murmur2(user_id) >>> 0) % 16`: users spread over 16 key ranges
 * (regions can split along them) while all rows of one user stay together. `,` cannot occur in a
 * user id (ids are letters, digits and `._:-`, all above `,` in ASCII), so the rows of `u-1` and
 * `u-10` never interleave, and `<salt><user_id>-` is the first key after all of a user's rows.
 * Kinds, three rows per (user, notification):
 *
 *   t  time rows  `<salt><user>,t,<published_at ms, 13 digits>,<id>`  n:j notification JSON, n:s seq
 *                 GET /notifications = a forward range scan; the cursor is the last row's (ms, id).
 *   s  seq rows   `<salt><user>,s,<seq, 16 digits>,<id>`             n:j notification JSON, n:t ms
 *                 SSE resume in (seq, id) order.
 *   i  id rows    `<salt><user>,i,<id>`                              n:s seq, n:t ms
 *                 Idempotent appends and the resume lookup.
 *
 * Limits (HBase REST has no multi-row transactions and no check-and-put in the gateway):
 * the three rows of an entry are written in one batch put, which is not atomic; two appends of
 * the same (user, id) racing each other may both report true (the rows they write are the same
 * when the copies are). Herald appends one user's entries from one user-log partition consumer,
 * so this does not happen in normal operation.
 */
import { HeraldError } from '../../core/errors.ts';
import { uuidV7Timestamp } from '../../core/ids.ts';
import type { Notification } from '../../core/types.ts';
import { murmur2String } from '../../log/murmur2.ts';
import { decodeInboxCursor, encodeInboxCursor } from '../sqlite/inbox-cursor.ts';
import type { InboxEntry, InboxPage, InboxQuery, InboxStore } from '../types.ts';
import { HBaseRestClient, mapLimited, type HBaseRow } from './rest-client.ts';

/** Options of {@link openHBaseInboxStore}. */
export interface HBaseInboxOptions {
  /** Base URL of the HBase REST server (HERALD_HBASE_REST_URL). */
  restUrl: string;
  /** Table name. Default `herald_inbox`. */
  table?: string;
  /** Retention, ms: the column family's TTL (rounded up to whole seconds). Used when the table is created. */
  retentionMs: number;
  /** Deadline of one REST request, ms. Default 5,000. */
  timeoutMs?: number;
  /** REST requests in flight for per-row work (id lookups, deletes). Default 8. */
  concurrency?: number;
}

/** Largest page of {@link InboxStore.list}. */
export const HBASE_INBOX_MAX_LIMIT = 1000;
/** A user with this many ids in one append batch has them looked up by one range scan, not GETs. */
const SCAN_LOOKUP_MIN = 16;
/** Rows per scan page of readAfter's fallback and purge, rows. */
const SCAN_PAGE = 500;
/** Largest published_at a time row key can hold (13 digits), ms since the epoch. */
const MAX_MS = 9_999_999_999_999;
const FAMILY = 'n';
const COL_JSON = 'n:j';
const COL_SEQ = 'n:s';
const COL_MS = 'n:t';
const ZERO = Buffer.from([0]);

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const key = (text: string): Buffer => Buffer.from(text, 'utf8');
/** The first key after every key that starts with `k`. */
const after = (k: Buffer): Buffer => Buffer.concat([k, ZERO]);

/** `<salt><user>,`: the prefix of all of a user's rows. */
function userPrefix(userId: string): string {
  return `${((murmur2String(userId) >>> 0) % 16).toString(16)}${userId},`;
}

function cell(row: HBaseRow, column: string): Buffer | undefined {
  return row.cells.find((c) => c.column === column)?.value;
}

function checkLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new RangeError(`limit must be an integer in 1..${max}, got ${limit}`);
}

function corrupt(row: HBaseRow, why: string): HeraldError {
  return new HeraldError('HERALD_STORE_REJECTED', `HBase inbox row ${JSON.stringify(row.key.toString('utf8'))} is corrupt: ${why}`);
}

function notificationOf(row: HBaseRow): Notification {
  const json = cell(row, COL_JSON);
  if (json === undefined) throw corrupt(row, 'no n:j cell');
  return JSON.parse(json.toString('utf8')) as Notification;
}

function numberOf(row: HBaseRow, column: string): number {
  const v = cell(row, column);
  const n = v === undefined ? Number.NaN : Number(v.toString('utf8'));
  if (!Number.isSafeInteger(n)) throw corrupt(row, `bad ${column} cell`);
  return n;
}

/** HBase implementation of {@link InboxStore}; build it with {@link openHBaseInboxStore}. */
export class HBaseInboxStore implements InboxStore {
  readonly #client: HBaseRestClient;
  readonly #table: string;
  readonly #concurrency: number;
  #closed = false;

  /** Does no I/O: {@link openHBaseInboxStore} also creates the table. */
  constructor(o: HBaseInboxOptions) {
    this.#client = new HBaseRestClient({ url: o.restUrl, ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }) });
    this.#table = o.table ?? 'herald_inbox';
    this.#concurrency = o.concurrency ?? 8;
  }

  /** Migration: creates the table (family `n`, TTL = retention, 1 version) unless it exists. */
  async migrate(retentionMs: number): Promise<void> {
    if (!Number.isFinite(retentionMs) || retentionMs <= 0) throw new RangeError(`retentionMs must be positive, got ${retentionMs}`);
    await this.#client.ensureTable(this.#table, [{ name: FAMILY, ttlSeconds: Math.ceil(retentionMs / 1000), versions: 1 }]);
  }

  #open(): void {
    if (this.#closed) throw new HeraldError('HERALD_STORE_REJECTED', 'the HBase inbox store is closed');
  }

  /**
   * Looks up which entries are new (their id rows: GETs, or a range scan per user with many
   * entries in the batch), then writes the time, seq and id rows of every new entry in one batch
   * put. A replay keeps the first copy
   * (its seq and content); a second copy of one (user_id, id) within the batch is false.
   * Throws RangeError for a published_at that is not a date in 0..9999999999999 ms, a seq that is
   * not a non-negative safe integer or a user_id that is empty or contains `,`, and TypeError for
   * a message that is neither a string nor an object (nothing stored).
   */
  async append(entries: readonly InboxEntry[]): Promise<boolean[]> {
    this.#open();
    const prepared = entries.map((e) => {
      const n = e.notification;
      const ms = Date.parse(n.published_at);
      if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) throw new RangeError(`notification ${n.id}: published_at is not a storable date: ${n.published_at}`);
      if (typeof n.message !== 'string' && (typeof n.message !== 'object' || n.message === null)) {
        throw new TypeError(`notification ${n.id}: message must be a string or an object`);
      }
      if (!Number.isSafeInteger(e.seq) || e.seq < 0) throw new RangeError(`notification ${n.id}: seq must be a non-negative integer, got ${e.seq}`);
      if (e.user_id.length === 0 || e.user_id.includes(',')) throw new RangeError(`user_id must be non-empty without ',': ${JSON.stringify(e.user_id)}`);
      return { e, ms, prefix: userPrefix(e.user_id) };
    });
    // First copy of each (user, id) in the batch; later copies are false.
    const firsts = new Map<string, number>();
    const candidates: number[] = [];
    for (const [i, p] of prepared.entries()) {
      const k = `${p.prefix}i,${p.e.notification.id}`;
      if (!firsts.has(k)) {
        firsts.set(k, i);
        candidates.push(i);
      }
    }
    const flags = new Array<boolean>(entries.length).fill(false);
    const stored = await this.#storedIdRows(candidates.map((i) => prepared[i]!).map((p) => ({ prefix: p.prefix, id: p.e.notification.id })));
    const rows: HBaseRow[] = [];
    for (const i of candidates) {
      const p = prepared[i]!;
      if (stored.has(`${p.prefix}i,${p.e.notification.id}`)) continue;
      flags[i] = true;
      const { e, ms, prefix } = prepared[i]!;
      const n = e.notification;
      const json = key(JSON.stringify({ id: n.id, topic_id: n.topic_id, message: n.message, published_at: n.published_at }));
      const seq = key(String(e.seq));
      const msText = key(String(ms));
      rows.push(
        { key: key(`${prefix}t,${pad(ms, 13)},${n.id}`), cells: [{ column: COL_JSON, value: json }, { column: COL_SEQ, value: seq }] },
        { key: key(`${prefix}s,${pad(e.seq, 16)},${n.id}`), cells: [{ column: COL_JSON, value: json }, { column: COL_MS, value: msText }] },
        // Last in the batch: the id row is what makes a replay a no-op.
        { key: key(`${prefix}i,${n.id}`), cells: [{ column: COL_SEQ, value: seq }, { column: COL_MS, value: msText }] },
      );
    }
    await this.#client.putRows(this.#table, rows);
    return flags;
  }

  /**
   * Which of the id rows of `wanted` exist (keys as text). A user with few ids in the batch: one
   * GET per id row; a user with {@link SCAN_LOOKUP_MIN} or more (a backlog, a replayed batch):
   * one range scan of the user's id rows between the smallest and the largest id, paged. At most
   * `concurrency` requests in flight.
   */
  async #storedIdRows(wanted: readonly { prefix: string; id: string }[]): Promise<Set<string>> {
    const byUser = new Map<string, string[]>();
    for (const w of wanted) {
      const ids = byUser.get(w.prefix);
      if (ids === undefined) byUser.set(w.prefix, [w.id]);
      else ids.push(w.id);
    }
    const gets: string[] = [];
    const scans: { prefix: string; ids: string[] }[] = [];
    for (const [prefix, ids] of byUser) {
      if (ids.length < SCAN_LOOKUP_MIN) gets.push(...ids.map((id) => `${prefix}i,${id}`));
      else scans.push({ prefix, ids });
    }
    const found = new Set<string>();
    await Promise.all([
      mapLimited(gets, this.#concurrency, async (k) => {
        if ((await this.#client.getRow(this.#table, key(k))) !== null) found.add(k);
      }),
      mapLimited(scans, Math.max(1, Math.floor(this.#concurrency / 2)), async ({ prefix, ids }) => {
        const keys = ids.map((id) => key(`${prefix}i,${id}`)).sort(Buffer.compare);
        const wantedKeys = new Set(keys.map((k) => k.toString('utf8')));
        let start = keys[0]!;
        const stop = after(keys.at(-1)!);
        for (;;) {
          const rows = await this.#client.scan(this.#table, { start, stop, limit: HBASE_INBOX_MAX_LIMIT, columns: [COL_SEQ] });
          for (const row of rows) {
            const k = row.key.toString('utf8');
            if (wantedKeys.has(k)) found.add(k);
          }
          if (rows.length < HBASE_INBOX_MAX_LIMIT) return;
          start = after(rows.at(-1)!.key);
        }
      }),
    ]);
    return found;
  }

  /**
   * One range scan of the user's time rows (limit + 1 rows, to know whether more follow).
   * Throws RangeError when `limit` is not an integer in 1..1000, `HERALD_EDGE_CURSOR_INVALID`
   * when the cursor is malformed (same cursor format as the SQLite inbox). The cursor carries the
   * last (published_at, id) returned, so appends and purges between pages never cause an item to
   * be returned twice or skipped.
   */
  async list(userId: string, query: InboxQuery): Promise<InboxPage> {
    checkLimit(query.limit, HBASE_INBOX_MAX_LIMIT);
    const cursor = query.cursor === undefined ? undefined : decodeInboxCursor(query.cursor);
    this.#open();
    const empty: InboxPage = { notifications: [], next_cursor: null };
    const prefix = `${userPrefix(userId)}t,`;
    // published_at > sinceMs, i.e. ≥ floor(sinceMs) + 1 for whole milliseconds.
    const fromMs = query.sinceMs === undefined ? 0 : Math.max(0, Math.floor(query.sinceMs) + 1);
    if (fromMs > MAX_MS) return empty;
    let start = key(`${prefix}${pad(fromMs, 13)}`);
    if (cursor !== undefined && (query.sinceMs === undefined || cursor.publishedAtMs > query.sinceMs)) {
      if (cursor.publishedAtMs > MAX_MS) return empty;
      if (cursor.publishedAtMs >= 0) start = after(key(`${prefix}${pad(cursor.publishedAtMs, 13)},${cursor.id}`));
    }
    const rows = await this.#client.scan(this.#table, { start, stop: key(`${userPrefix(userId)}t-`), limit: query.limit + 1, columns: [COL_JSON] });
    const more = rows.length > query.limit;
    const page = more ? rows.slice(0, query.limit) : rows;
    const last = page.at(-1);
    let next: string | null = null;
    if (more && last !== undefined) {
      const suffix = last.key.toString('utf8').slice(prefix.length);
      next = encodeInboxCursor({ publishedAtMs: Number(suffix.slice(0, 13)), id: suffix.slice(14) });
    }
    return { notifications: page.map(notificationOf), next_cursor: next };
  }

  /**
   * Found (the user has an id row for `lastEventId`): seq rows after its seq (or after `afterSeq`
   * when that is larger), in (seq, id) order: one range scan.
   * Not found (`found` = false): entries published at or after the millisecond of the UUIDv7 in
   * `lastEventId` (from time 0 when it is not a UUIDv7), the id itself excluded, in (seq, id)
   * order, after `afterSeq` when given: the user's seq rows are scanned in pages of 500 and
   * filtered by their n:t cell until `limit` match. "At or after": a repeat (the client drops it
   * by id) is better than a loss. Throws RangeError when `limit` is not a positive integer.
   */
  async readAfter(userId: string, lastEventId: string, limit: number, afterSeq?: number): Promise<{ found: boolean; entries: InboxEntry[] }> {
    checkLimit(limit, Number.MAX_SAFE_INTEGER);
    this.#open();
    const prefix = userPrefix(userId);
    const idRow = await this.#client.getRow(this.#table, key(`${prefix}i,${lastEventId}`));
    const found = idRow !== null;
    let fromSeq = afterSeq === undefined ? -1 : Math.floor(afterSeq);
    let minMs = 0;
    if (idRow !== null) {
      fromSeq = Math.max(fromSeq, numberOf(idRow, COL_SEQ));
    } else {
      const ms = uuidV7Timestamp(lastEventId);
      minMs = Number.isNaN(ms) ? 0 : ms;
    }
    const entries: InboxEntry[] = [];
    if (fromSeq + 1 > Number.MAX_SAFE_INTEGER) return { found, entries };
    const seqPrefix = `${prefix}s,`;
    let start = key(`${seqPrefix}${pad(Math.max(0, fromSeq + 1), 16)}`);
    const stop = key(`${prefix}s-`);
    while (entries.length < limit) {
      const want = found ? Math.min(limit - entries.length, HBASE_INBOX_MAX_LIMIT) : SCAN_PAGE;
      const rows = await this.#client.scan(this.#table, { start, stop, limit: want, columns: [COL_JSON, COL_MS] });
      for (const row of rows) {
        const suffix = row.key.toString('utf8').slice(seqPrefix.length);
        const id = suffix.slice(17);
        if (!found && (numberOf(row, COL_MS) < minMs || id === lastEventId)) continue;
        entries.push({ user_id: userId, notification: notificationOf(row), seq: Number(suffix.slice(0, 16)) });
        if (entries.length === limit) break;
      }
      const last = rows.at(-1);
      if (rows.length < want || last === undefined) break;
      start = after(last.key);
    }
    return { found, entries };
  }

  /**
   * Deletes the three rows of every notification published before `beforeMs`, for every user,
   * and returns how many (user, notification) entries that was. Walks the table user by user: a
   * one-row scan finds the next user, then that user's time rows before `beforeMs` are scanned
   * in pages of 500 and their seq and id rows, then the time rows themselves, are deleted
   * (`concurrency` DELETEs in flight). Memory stays bounded by one page. REST deletes one row per
   * request, so this costs three requests per entry (about 3 ms per entry measured on the test
   * gateway: 5,000 entries in ~15 s).
   *
   * The family's TTL also expires cells on its own, counted from when they were written (not
   * from published_at); purge is what enforces retention by published_at and keeps counts.
   */
  async purge(beforeMs: number): Promise<number> {
    this.#open();
    const limitMs = Math.min(Math.ceil(beforeMs), MAX_MS + 1);
    let total = 0;
    let position: Buffer = Buffer.alloc(0);
    for (;;) {
      const [probe] = await this.#client.scan(this.#table, { ...(position.length > 0 ? { start: position } : {}), limit: 1, columns: [COL_SEQ, COL_MS] });
      if (probe === undefined) return total;
      const text = probe.key.toString('utf8');
      const comma = text.indexOf(',');
      const userId = text.slice(1, comma);
      if (comma < 2 || userPrefix(userId) !== text.slice(0, comma + 1)) {
        position = after(probe.key); // not one of ours: step over it
        continue;
      }
      const prefix = text.slice(0, comma + 1);
      if (limitMs > 0) total += await this.#purgeUser(prefix, limitMs);
      position = key(`${text.slice(0, comma)}-`);
    }
  }

  async #purgeUser(prefix: string, limitMs: number): Promise<number> {
    const timePrefix = `${prefix}t,`;
    let start = key(timePrefix);
    const stop = key(limitMs > MAX_MS ? `${prefix}t-` : `${timePrefix}${pad(limitMs, 13)}`);
    let count = 0;
    for (;;) {
      const rows = await this.#client.scan(this.#table, { start, stop, limit: SCAN_PAGE, columns: [COL_SEQ] });
      if (rows.length === 0) return count;
      const others: Buffer[] = [];
      for (const row of rows) {
        const id = row.key.toString('utf8').slice(timePrefix.length + 14);
        others.push(key(`${prefix}s,${pad(numberOf(row, COL_SEQ), 16)},${id}`), key(`${prefix}i,${id}`));
      }
      // Time rows last: if this fails half way, the next purge finds them again.
      await this.#client.deleteRows(this.#table, others, this.#concurrency);
      await this.#client.deleteRows(this.#table, rows.map((r) => r.key), this.#concurrency);
      count += rows.length;
      if (rows.length < SCAN_PAGE) return count;
      start = after(rows.at(-1)!.key);
    }
  }

  /** Idempotent. Later calls reject with `HERALD_STORE_REJECTED` (there is no connection to close: fetch pools them). */
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * Opens the HBase inbox: creates the table if it is missing (family `n`, TTL = retention in
 * seconds, VERSIONS 1). Rejects with `HERALD_STORE_FAILED` when the REST server is unreachable.
 */
export async function openHBaseInboxStore(o: HBaseInboxOptions): Promise<HBaseInboxStore> {
  const store = new HBaseInboxStore(o);
  await store.migrate(o.retentionMs);
  return store;
}

/** Drops the inbox table (tests and tooling). A missing table is not an error. */
export async function dropHBaseInboxTable(restUrl: string, table: string, timeoutMs?: number): Promise<void> {
  await new HBaseRestClient({ url: restUrl, ...(timeoutMs === undefined ? {} : { timeoutMs }) }).dropTable(table);
}
