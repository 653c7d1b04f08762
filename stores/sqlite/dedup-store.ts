/**
 * DedupStore on SQLite: the exact confirm store behind the windowed Bloom dedup.
 * `dedup_confirmations (key PRIMARY KEY, partition, at)` WITHOUT ROWID (rows are tiny), with
 * (partition, at) for the Bloom restore on partition assignment and (at) for purge.
 * A key keeps the `at` and `partition` of its first confirmation.
 */
import type Database from 'better-sqlite3';
import type { DedupStore } from '../types.ts';
import { openDatabase, type Migration } from './open-database.ts';
import { SQLITE_DEFAULTS, type SqliteStoreOptions } from './options.ts';
import { purgeInChunks } from './purge-in-chunks.ts';
import { runOn } from './sqlite-errors.ts';

/** Schema history of dedup.db. */
export const DEDUP_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'dedup: create table',
    sql: `CREATE TABLE dedup_confirmations (
      key TEXT NOT NULL PRIMARY KEY,
      partition INTEGER NOT NULL, -- source partition of the publish log
      at INTEGER NOT NULL         -- ms since the epoch
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX dedup_by_partition ON dedup_confirmations (partition, at, key);
    CREATE INDEX dedup_by_age ON dedup_confirmations (at);`,
  },
];

type Confirmation = { key: string; partition: number; at: number };

/** SQLite implementation of {@link DedupStore}; build it with `openSqliteDedupStore`. */
export class SqliteDedupStore implements DedupStore {
  readonly #db: Database.Database;
  readonly #confirmed: Database.Statement<[string], string>;
  readonly #insert: Database.Statement<[string, number, number]>;
  readonly #since: Database.Statement<[number, number], { key: string; at: number }>;
  readonly #purge: Database.Statement<[number, number]>;
  readonly #confirmAll: (entries: readonly Confirmation[]) => void;

  /** Opens (and migrates unless read-only) the database at `opts.path`. Throws like `openDatabase`. */
  constructor(opts: SqliteStoreOptions) {
    const db = openDatabase(opts, DEDUP_MIGRATIONS);
    this.#db = db;
    // One statement for any batch size: the keys travel as one JSON array (see subscription-store.ts).
    this.#confirmed = db
      .prepare<[string], string>('SELECT key FROM dedup_confirmations WHERE key IN (SELECT value FROM json_each(?))')
      .pluck(true);
    this.#insert = db.prepare('INSERT INTO dedup_confirmations (key, partition, at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING');
    this.#since = db.prepare('SELECT key, at FROM dedup_confirmations WHERE partition = ? AND at >= ? ORDER BY at, key');
    this.#purge = db.prepare(
      'DELETE FROM dedup_confirmations WHERE key IN (SELECT key FROM dedup_confirmations WHERE at < ? LIMIT ?)',
    );
    this.#confirmAll = db.transaction((entries) => {
      for (const e of entries) this.#insert.run(e.key, e.partition, e.at);
    });
  }

  async confirmed(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    return runOn(this.#db, 'dedup.confirmed', () => new Set(this.#confirmed.all(JSON.stringify(keys))));
  }

  /** One transaction for the batch. A key already confirmed keeps its first `at` and `partition`. */
  async confirm(entries: readonly Confirmation[]): Promise<void> {
    if (entries.length === 0) return;
    runOn(this.#db, 'dedup.confirm', () => this.#confirmAll(entries));
  }

  /** Ordered by (at, key). */
  async keysSince(partition: number, sinceMs: number): Promise<{ key: string; at: number }[]> {
    return runOn(this.#db, 'dedup.keysSince', () => this.#since.all(partition, sinceMs));
  }

  /** Deletes in chunks of {@link SQLITE_DEFAULTS.purgeChunkSize} rows, yielding to the event loop between them. */
  async purge(beforeMs: number): Promise<number> {
    return purgeInChunks(this.#db, 'dedup.purge', this.#purge, beforeMs, SQLITE_DEFAULTS.purgeChunkSize);
  }

  /** Closes the connection; idempotent. Later calls reject with `HERALD_STORE_REJECTED`. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
