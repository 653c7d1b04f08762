/**
 * IdempotencyStore on SQLite: one row per (topic_id, key) holding the first answer given to that
 * Idempotency-Key. `created_at` (ms, from the store's clock at claim time) drives purge.
 */
import type Database from 'better-sqlite3';
import type { IdempotencyRecord, IdempotencyStore } from '../types.ts';
import { openDatabase, type Migration } from './open-database.ts';
import { SQLITE_DEFAULTS, type SqliteStoreOptions } from './options.ts';
import { purgeInChunks } from './purge-in-chunks.ts';
import { runOn } from './sqlite-errors.ts';

/** Schema history of idempotency.db. */
export const IDEMPOTENCY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'idempotency: create table',
    sql: `CREATE TABLE idempotency_claims (
      topic_id TEXT NOT NULL,
      key TEXT NOT NULL,
      id TEXT NOT NULL,
      published_at TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'appended')),
      created_at INTEGER NOT NULL, -- ms since the epoch
      PRIMARY KEY (topic_id, key)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX idempotency_by_age ON idempotency_claims (created_at);`,
  },
  {
    version: 2,
    name: 'idempotency: request fingerprint',
    sql: `ALTER TABLE idempotency_claims ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';`,
  },
];

/** Options of the SQLite idempotency store. */
export interface SqliteIdempotencyStoreOptions extends SqliteStoreOptions {
  /** Clock for `created_at`, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

type ClaimResult = { record: IdempotencyRecord; created: boolean };

/** SQLite implementation of {@link IdempotencyStore}; build it with `openSqliteIdempotencyStore`. */
export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #insert: Database.Statement<[string, string, string, string, string, string, number]>;
  readonly #select: Database.Statement<[string, string], IdempotencyRecord>;
  readonly #markAppended: Database.Statement<[string, string]>;
  readonly #purge: Database.Statement<[number, number]>;
  readonly #claim: (topicId: string, key: string, candidate: IdempotencyRecord, atMs: number) => ClaimResult;

  /** Opens (and migrates unless read-only) the database at `opts.path`. Throws like `openDatabase`. */
  constructor(opts: SqliteIdempotencyStoreOptions) {
    const db = openDatabase(opts, IDEMPOTENCY_MIGRATIONS);
    this.#db = db;
    this.#now = opts.now ?? Date.now;
    this.#insert = db.prepare(
      `INSERT INTO idempotency_claims (topic_id, key, id, published_at, state, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (topic_id, key) DO NOTHING`,
    );
    this.#select = db.prepare('SELECT id, published_at, state, fingerprint FROM idempotency_claims WHERE topic_id = ? AND key = ?');
    this.#markAppended = db.prepare("UPDATE idempotency_claims SET state = 'appended' WHERE topic_id = ? AND key = ?");
    this.#purge = db.prepare(
      'DELETE FROM idempotency_claims WHERE (topic_id, key) IN (SELECT topic_id, key FROM idempotency_claims WHERE created_at < ? LIMIT ?)',
    );
    // IMMEDIATE: take the write lock first, so the SELECT after a lost INSERT sees the winner's row.
    const claim = db.transaction((topicId: string, key: string, candidate: IdempotencyRecord, atMs: number): ClaimResult => {
      if (this.#insert.run(topicId, key, candidate.id, candidate.published_at, candidate.state, candidate.fingerprint, atMs).changes === 1) {
        return { record: { id: candidate.id, published_at: candidate.published_at, state: candidate.state, fingerprint: candidate.fingerprint }, created: true };
      }
      const record = this.#select.get(topicId, key);
      if (record === undefined) throw new Error(`claim of ${topicId}/${key}: row vanished inside its transaction`);
      return { record, created: false };
    });
    this.#claim = (topicId, key, candidate, atMs) => claim.immediate(topicId, key, candidate, atMs);
  }

  /** Atomic: INSERT … ON CONFLICT DO NOTHING, then SELECT when it lost, in one IMMEDIATE transaction. */
  async claim(topicId: string, key: string, candidate: IdempotencyRecord): Promise<ClaimResult> {
    return runOn(this.#db, 'idempotency.claim', () => this.#claim(topicId, key, candidate, this.#now()));
  }

  /** Idempotent; a claim that does not exist (never made, or purged) is left absent. */
  async markAppended(topicId: string, key: string): Promise<void> {
    runOn(this.#db, 'idempotency.markAppended', () => this.#markAppended.run(topicId, key));
  }

  /** Deletes claims whose `created_at` is before `beforeMs`, in chunks. Returns how many. */
  async purge(beforeMs: number): Promise<number> {
    return purgeInChunks(this.#db, 'idempotency.purge', this.#purge, beforeMs, SQLITE_DEFAULTS.purgeChunkSize);
  }

  /** Closes the connection; idempotent. Later calls reject with `HERALD_STORE_REJECTED`. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
