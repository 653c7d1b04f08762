/**
 * InboxStore on SQLite (the offline store of the embedded profile).
 *
 * Normalised (schema v2): each notification is stored once in `notifications` (its message as
 * JSON text, so a string message comes back as the same string and an object as an equal object;
 * `published_at` keeps the ISO text exactly as received), and each (user_id, notification id) is a
 * small row in `deliveries`. A fan-out to 50 users writes one message and 50 ~70-byte rows instead
 * of 50 copies of the message: measured 5-10x more appends/s (bench/stores.bench.ts).
 *
 * deliveries is clustered on (user_id, published_at_ms, id): idempotent appends and GET
 * /notifications use that one B-tree (a notification's published_at never changes, so the key is
 * unique exactly when (user_id, id) is). One index: (user_id, seq) for SSE resume. Purge seeks
 * user by user through the primary key instead of keeping an index by age on every append.
 */
import type Database from 'better-sqlite3';
import type { Notification } from '../../core/types.ts';
import type { InboxEntry, InboxPage, InboxQuery, InboxStore } from '../types.ts';
import { decodeInboxCursor, encodeInboxCursor } from './inbox-cursor.ts';
import { openDatabase, type Migration } from './open-database.ts';
import { SQLITE_DEFAULTS, type SqliteStoreOptions } from './options.ts';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { purgeInChunks } from './purge-in-chunks.ts';
import { runOn } from './sqlite-errors.ts';
import { uuidV7Timestamp } from '../../core/ids.ts';

/** Schema history of inbox.db. */
export const INBOX_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'inbox: create table',
    // A rowid table, not WITHOUT ROWID: messages can be kilobytes, too large for key-ordered rows.
    sql: `CREATE TABLE inbox (
      user_id TEXT NOT NULL,
      id TEXT NOT NULL,
      topic_id TEXT NOT NULL,
      message TEXT NOT NULL,           -- JSON text of the message
      published_at TEXT NOT NULL,      -- ISO 8601 exactly as received
      published_at_ms INTEGER NOT NULL, -- ms since the epoch
      seq INTEGER NOT NULL,            -- user log offset: delivery order of the user
      PRIMARY KEY (user_id, id)
    ) STRICT;
    CREATE INDEX inbox_by_time ON inbox (user_id, published_at_ms, id);
    CREATE INDEX inbox_by_seq ON inbox (user_id, seq, id);
    CREATE INDEX inbox_by_age ON inbox (published_at_ms);`,
  },
  {
    version: 2,
    name: 'inbox: store each notification once, deliveries by reference',
    sql: `CREATE TABLE notifications (
      id TEXT PRIMARY KEY,
      topic_id TEXT NOT NULL,
      message TEXT NOT NULL,            -- JSON text of the message
      published_at TEXT NOT NULL,       -- ISO 8601 exactly as received
      published_at_ms INTEGER NOT NULL  -- ms since the epoch
    ) STRICT;
    CREATE INDEX notifications_by_age ON notifications (published_at_ms);
    CREATE TABLE deliveries (
      user_id TEXT NOT NULL,
      id TEXT NOT NULL,
      seq INTEGER NOT NULL,             -- user log offset: delivery order of the user
      published_at_ms INTEGER NOT NULL,
      PRIMARY KEY (user_id, published_at_ms, id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX deliveries_by_seq ON deliveries (user_id, seq);
    -- No index by age: purge walks the users through the primary key (see purge()), so an
    -- append updates two B-trees, not three.
    -- (user_id, published_at_ms, id) is unique because (user_id, id) is: a notification's
    -- published_at never changes. One B-tree serves idempotent appends and GET /notifications.
    INSERT INTO notifications (id, topic_id, message, published_at, published_at_ms)
      SELECT id, topic_id, message, published_at, published_at_ms FROM inbox WHERE true
      ON CONFLICT (id) DO NOTHING;
    INSERT INTO deliveries (user_id, id, seq, published_at_ms) SELECT user_id, id, seq, published_at_ms FROM inbox;
    DROP TABLE inbox;`,
  },
];

/** Largest page of {@link InboxStore.list}. */
export const INBOX_MAX_LIMIT = 1000;

interface Row {
  id: string;
  topic_id: string;
  message: string;
  published_at: string;
  published_at_ms: number;
  seq: number;
}

/** user_id, id, topic_id, message JSON, published_at ISO, published_at ms, seq. */
type InsertRow = [string, string, string, string, string, number, number];

const COLUMNS = 'd.id, n.topic_id, n.message, n.published_at, d.published_at_ms, d.seq';
const FROM = 'deliveries d JOIN notifications n ON n.id = d.id';

function toNotification(row: Row): Notification {
  return { id: row.id, topic_id: row.topic_id, message: JSON.parse(row.message) as Notification['message'], published_at: row.published_at };
}

function checkLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new RangeError(`limit must be an integer in 1..${max}, got ${limit}`);
}

/** SQLite implementation of {@link InboxStore}; build it with `openSqliteInboxStore`. */
export class SqliteInboxStore implements InboxStore {
  readonly #db: Database.Database;
  readonly #firstPage: Database.Statement<[string, number, number], Row>;
  readonly #nextPage: Database.Statement<[string, number, string, number], Row>;
  readonly #seqOf: Database.Statement<[string, string], number>;
  readonly #seqOfAt: Database.Statement<[string, number, string], number>;
  readonly #afterSeq: Database.Statement<[string, number, number], Row>;
  readonly #sinceTime: Database.Statement<[string, number, number, string, number], Row>;
  readonly #nextUser: Database.Statement<[string], string>;
  readonly #purgeUser: Database.Statement<[string, number]>;
  readonly #purgeNotifications: Database.Statement<[number, number]>;
  readonly #appendAll: (rows: readonly InsertRow[]) => boolean[];

  /** Opens (and migrates unless read-only) the database at `opts.path`. Throws like `openDatabase`. */
  constructor(opts: SqliteStoreOptions) {
    const db = openDatabase(opts, INBOX_MIGRATIONS);
    this.#db = db;
    const insertNotification = db.prepare<[string, string, string, string, number]>(
      `INSERT INTO notifications (id, topic_id, message, published_at, published_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    );
    const insertDelivery = db.prepare<[string, string, number, number]>(
      `INSERT INTO deliveries (user_id, id, seq, published_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, published_at_ms, id) DO NOTHING`,
    );
    this.#firstPage = db.prepare(`SELECT ${COLUMNS} FROM ${FROM} WHERE d.user_id = ? AND d.published_at_ms > ? ORDER BY d.published_at_ms, d.id LIMIT ?`);
    // Row-value bound: SQLite seeks straight to the cursor in deliveries_by_time.
    this.#nextPage = db.prepare(
      `SELECT ${COLUMNS} FROM ${FROM} WHERE d.user_id = ? AND (d.published_at_ms, d.id) > (?, ?) ORDER BY d.published_at_ms, d.id LIMIT ?`,
    );
    this.#seqOf = db.prepare<[string, string], number>('SELECT seq FROM deliveries WHERE user_id = ? AND id = ?').pluck(true);
    this.#seqOfAt = db.prepare<[string, number, string], number>('SELECT seq FROM deliveries WHERE user_id = ? AND published_at_ms = ? AND id = ?').pluck(true);
    this.#afterSeq = db.prepare(`SELECT ${COLUMNS} FROM ${FROM} WHERE d.user_id = ? AND d.seq > ? ORDER BY d.seq, d.id LIMIT ?`);
    this.#sinceTime = db.prepare(
      `SELECT ${COLUMNS} FROM deliveries d INDEXED BY deliveries_by_seq JOIN notifications n ON n.id = d.id
       WHERE d.user_id = ? AND d.seq > ? AND d.published_at_ms >= ? AND d.id <> ? ORDER BY d.seq, d.id LIMIT ?`,
    );
    this.#nextUser = db.prepare<[string], string>('SELECT user_id FROM deliveries WHERE user_id > ? ORDER BY user_id LIMIT 1').pluck(true);
    this.#purgeUser = db.prepare<[string, number]>('DELETE FROM deliveries WHERE user_id = ? AND published_at_ms < ?');
    this.#purgeNotifications = db.prepare('DELETE FROM notifications WHERE rowid IN (SELECT rowid FROM notifications WHERE published_at_ms < ? LIMIT ?)');
    this.#appendAll = db.transaction((rows: readonly InsertRow[]) => {
      // A notification fanned out to many users of the batch is written once.
      let last = '';
      return rows.map(([userId, id, topicId, message, publishedAt, ms, seq]) => {
        if (id !== last) {
          insertNotification.run(id, topicId, message, publishedAt, ms);
          last = id;
        }
        return insertDelivery.run(userId, id, seq, ms).changes === 1;
      });
    });
  }

  /**
   * One transaction for the batch. Returns, per entry, true when newly stored (a second copy of
   * the same (user_id, id) in one batch is false). Throws RangeError for a published_at that is
   * not a date and TypeError for a message that is neither a string nor an object (nothing stored).
   */
  async append(entries: readonly InboxEntry[]): Promise<boolean[]> {
    let lastId = '';
    let lastMessage = '';
    const rows = entries.map((e) => {
      const n = e.notification;
      const ms = Date.parse(n.published_at);
      if (!Number.isFinite(ms)) throw new RangeError(`notification ${n.id}: published_at is not a date: ${n.published_at}`);
      if (typeof n.message !== 'string' && (typeof n.message !== 'object' || n.message === null)) {
        throw new TypeError(`notification ${n.id}: message must be a string or an object`);
      }
      if (n.id !== lastId) {
        lastId = n.id;
        lastMessage = JSON.stringify(n.message);
      }
      const row: InsertRow = [e.user_id, n.id, n.topic_id, lastMessage, n.published_at, ms, e.seq];
      return row;
    });
    if (rows.length === 0) return [];
    return runOn(this.#db, 'inbox.append', () => this.#appendAll(rows));
  }

  /**
   * Throws RangeError when `limit` is not an integer in 1..1000, `HERALD_EDGE_CURSOR_INVALID`
   * when the cursor is malformed. The cursor carries the last (published_at, id) returned, so
   * appends and purges between pages never cause an item to be returned twice or skipped.
   */
  async list(userId: string, query: InboxQuery): Promise<InboxPage> {
    checkLimit(query.limit, INBOX_MAX_LIMIT);
    const after = query.cursor === undefined ? undefined : decodeInboxCursor(query.cursor);
    const sinceMs = query.sinceMs ?? Number.MIN_SAFE_INTEGER;
    return runOn(this.#db, 'inbox.list', () => {
      // "published_at > sinceMs" is the bound (sinceMs, +∞): the cursor only matters when it is past it.
      const rows =
        after === undefined || after.publishedAtMs <= sinceMs
          ? this.#firstPage.all(userId, sinceMs, query.limit + 1)
          : this.#nextPage.all(userId, after.publishedAtMs, after.id, query.limit + 1);
      const more = rows.length > query.limit;
      const page = more ? rows.slice(0, query.limit) : rows;
      const last = page.at(-1);
      return {
        notifications: page.map(toNotification),
        next_cursor: more && last !== undefined ? encodeInboxCursor({ publishedAtMs: last.published_at_ms, id: last.id }) : null,
      };
    });
  }

  /**
   * Found: entries with seq greater than the seq of `lastEventId` (or than `afterSeq` when that is
   * larger), in (seq, id) order.
   * Not found (`found` = false): entries published at or after the millisecond of the UUIDv7 in
   * `lastEventId`, in (seq, id) order, after `afterSeq` when given. "At or after", not "after":
   * notifications of that same millisecond may or may not have been delivered, and a repeat (the
   * client can drop it by id) is better than a loss. When `lastEventId` is not a UUIDv7 at all, the
   * fallback starts at time 0: the whole retained inbox, paged by `limit`.
   * Throws RangeError when `limit` is not a positive integer.
   */
  async readAfter(userId: string, lastEventId: string, limit: number, afterSeq?: number): Promise<{ found: boolean; entries: InboxEntry[] }> {
    checkLimit(limit, Number.MAX_SAFE_INTEGER);
    return runOn(this.#db, 'inbox.readAfter', () => {
      // Herald's ids are UUIDv7 whose time is published_at: a primary-key lookup. Other ids: a scan of the user's rows.
      const idMs = uuidV7Timestamp(lastEventId);
      const seq = (Number.isNaN(idMs) ? undefined : this.#seqOfAt.get(userId, idMs, lastEventId)) ?? this.#seqOf.get(userId, lastEventId);
      const toEntry = (row: Row): InboxEntry => ({ user_id: userId, notification: toNotification(row), seq: row.seq });
      if (seq !== undefined) {
        const from = afterSeq === undefined ? seq : Math.max(seq, afterSeq);
        return { found: true, entries: this.#afterSeq.all(userId, from, limit).map(toEntry) };
      }
      const ms = uuidV7Timestamp(lastEventId);
      const fromMs = Number.isNaN(ms) ? 0 : ms;
      const rows = this.#sinceTime.all(userId, afterSeq ?? Number.MIN_SAFE_INTEGER, fromMs, lastEventId, limit);
      return { found: false, entries: rows.map(toEntry) };
    });
  }

  /**
   * Deletes deliveries published before `beforeMs` user by user (a primary-key seek to each next
   * user, then a range delete), in transactions of up to {@link SQLITE_DEFAULTS.purgeChunkSize}
   * users, yielding to the event loop between them; then the notifications they referenced.
   * Returns the number of deliveries deleted.
   */
  async purge(beforeMs: number): Promise<number> {
    let total = 0;
    let after = '';
    const chunk = this.#db.transaction((): boolean => {
      for (let i = 0; i < SQLITE_DEFAULTS.purgeChunkSize; i++) {
        const user = this.#nextUser.get(after);
        if (user === undefined) return false;
        total += this.#purgeUser.run(user, beforeMs).changes;
        after = user;
      }
      return true;
    });
    while (runOn(this.#db, 'inbox.purge', chunk)) await yieldToEventLoop();
    await purgeInChunks(this.#db, 'inbox.purge', this.#purgeNotifications, beforeMs, SQLITE_DEFAULTS.purgeChunkSize);
    return total;
  }

  /** Closes the connection; idempotent. Later calls reject with `HERALD_STORE_REJECTED`. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
