/**
 * PartitionOwnershipStore on SQLite (`ownership.db`, shared by the edges of one machine until the
 * Redis store replaces it): `partition_owners (log, partition) → owner, claimed_at`.
 */
import type Database from 'better-sqlite3';
import type { PartitionOwnershipStore } from '../types.ts';
import { openDatabase, type Migration } from './open-database.ts';
import type { SqliteStoreOptions } from './options.ts';
import { runOn } from './sqlite-errors.ts';

/** Schema history of ownership.db. */
export const OWNERSHIP_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'partition_owners: create table',
    sql: `CREATE TABLE partition_owners (
      log TEXT NOT NULL,
      partition INTEGER NOT NULL,
      owner TEXT NOT NULL,
      claimed_at INTEGER NOT NULL, -- ms since the epoch
      PRIMARY KEY (log, partition)
    ) STRICT, WITHOUT ROWID;`,
  },
  {
    version: 2,
    name: 'partition_owners: claims are leases',
    sql: `ALTER TABLE partition_owners ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0; -- ms since the epoch`,
  },
];

/** SQLite implementation of {@link PartitionOwnershipStore}. */
export class SqliteOwnershipStore implements PartitionOwnershipStore {
  readonly #db: Database.Database;
  readonly #claim: Database.Statement<[string, number, string, number, number]>;
  readonly #release: Database.Statement<[string, number, string]>;
  readonly #owner: Database.Statement<[string, number, number], string>;
  readonly #now: () => number;

  /** Opens (and migrates) the database at `opts.path`. Throws like {@link openDatabase}. */
  /** @param now clock, ms since the epoch (tests move it) */
  constructor(opts: SqliteStoreOptions, now: () => number = Date.now) {
    this.#db = openDatabase(opts, OWNERSHIP_MIGRATIONS);
    this.#now = now;
    this.#claim = this.#db.prepare(
      `INSERT INTO partition_owners (log, partition, owner, claimed_at, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (log, partition) DO UPDATE SET owner = excluded.owner, claimed_at = excluded.claimed_at, expires_at = excluded.expires_at`,
    );
    this.#release = this.#db.prepare('DELETE FROM partition_owners WHERE log = ? AND partition = ? AND owner = ?');
    this.#owner = this.#db.prepare<[string, number, number], string>('SELECT owner FROM partition_owners WHERE log = ? AND partition = ? AND expires_at > ?').pluck(true);
  }

  async claim(log: string, partitions: readonly number[], owner: string, leaseMs: number): Promise<void> {
    const now = this.#now();
    runOn(this.#db, 'ownership.claim', () => this.#db.transaction(() => partitions.forEach((p) => this.#claim.run(log, p, owner, now, now + leaseMs)))());
  }

  async release(log: string, partitions: readonly number[], owner: string): Promise<void> {
    runOn(this.#db, 'ownership.release', () => this.#db.transaction(() => partitions.forEach((p) => this.#release.run(log, p, owner)))());
  }

  async ownerOf(log: string, partition: number): Promise<string | null> {
    return runOn(this.#db, 'ownership.ownerOf', () => this.#owner.get(log, partition, this.#now()) ?? null);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
