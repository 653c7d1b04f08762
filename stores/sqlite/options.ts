/**
 * Options and defaults of the embedded (SQLite) stores.
 */
import { join } from 'node:path';

/** How to open one SQLite store. */
export interface SqliteStoreOptions {
  /** Database file (created with its directory when missing, unless `readonly`), or `:memory:`. */
  path: string;
  /**
   * Open read-only, e.g. from a piscina worker thread while the main thread writes: no migrations
   * run (the file must exist and be fully migrated, else `HERALD_STORE_REJECTED`), every write
   * rejects with `HERALD_STORE_REJECTED`. Reads see every transaction committed before they start.
   */
  readonly?: boolean;
  /** How long a statement waits for another connection's lock before failing, ms. */
  busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` in WAL mode. `OFF`: commits survive a crash of the process (kill -9) but
   * not of the machine, no fsync at all (about 3x the appends/s on disk); `NORMAL` (default): the
   * WAL is fsynced at checkpoints, so a power cut may lose the last commits but never corrupts;
   * `FULL`: every commit is fsynced. Herald picks it from HERALD_DURABILITY.
   */
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  /** SQLite page cache of this connection, KiB (default {@link SQLITE_DEFAULTS.cacheKiB}). */
  cacheKiB?: number;
}

/** Defaults, one place. */
export const SQLITE_DEFAULTS = {
  synchronous: 'NORMAL',
  cacheKiB: 8_192, // KiB: page cache per connection (8 MiB); the inbox writer asks for more
  walAutocheckpointPages: 20_000, // pages (4 KiB): checkpoint the WAL when it reaches ~80 MiB
  busyTimeoutMs: 5_000, // ms: wait this long for a competing writer before HERALD_STORE_FAILED
  lookupChunkSize: 500, // ids per IN (...) statement in batch lookups (SQLite allows 32,766 params)
  purgeChunkSize: 2_000, // rows deleted per transaction by purge; the event loop runs in between
} as const;

/** Conventional file name of each store inside a data directory. */
export const SQLITE_FILE_NAMES = {
  subscriptions: 'subscriptions.db',
  inbox: 'inbox.db',
  dedup: 'dedup.db',
  idempotency: 'idempotency.db',
} as const;

/** The four database file paths under `dataDir` (one file per store, see {@link SQLITE_FILE_NAMES}). */
export function sqliteStorePaths(dataDir: string): { [K in keyof typeof SQLITE_FILE_NAMES]: string } {
  return {
    subscriptions: join(dataDir, SQLITE_FILE_NAMES.subscriptions),
    inbox: join(dataDir, SQLITE_FILE_NAMES.inbox),
    dedup: join(dataDir, SQLITE_FILE_NAMES.dedup),
    idempotency: join(dataDir, SQLITE_FILE_NAMES.idempotency),
  };
}
