/**
 * Maps better-sqlite3 failures to Herald errors through one table (STYLE.md rule 2):
 * {SQLite result code → Herald code}. The Herald code decides `retriable` (see core/errors.ts):
 * `HERALD_STORE_FAILED` may be retried (lock contention, transient I/O), `HERALD_STORE_REJECTED`
 * may not (constraint violations, read-only connection, corrupt file). Programmer errors
 * (TypeError, RangeError, …) pass through unchanged so they are never retried.
 */
import Database from 'better-sqlite3';
import { HeraldError, type ErrorCode } from '../../core/errors.ts';

type StoreErrorCode = Extract<ErrorCode, 'HERALD_STORE_FAILED' | 'HERALD_STORE_REJECTED'>;

/**
 * Primary SQLite result code → Herald code. Extended codes (`SQLITE_CONSTRAINT_PRIMARYKEY`,
 * `SQLITE_BUSY_SNAPSHOT`, …) are looked up exactly first, then by their primary code.
 * Codes not listed map to `HERALD_STORE_FAILED`.
 */
export const SQLITE_ERROR_MAP: Readonly<Record<string, StoreErrorCode>> = {
  SQLITE_BUSY: 'HERALD_STORE_FAILED', // another connection holds the write lock past busy_timeout
  SQLITE_LOCKED: 'HERALD_STORE_FAILED', // table locked inside this connection
  SQLITE_IOERR: 'HERALD_STORE_FAILED', // transient I/O failure
  SQLITE_PROTOCOL: 'HERALD_STORE_FAILED', // WAL lock race
  SQLITE_INTERRUPT: 'HERALD_STORE_FAILED',
  SQLITE_NOMEM: 'HERALD_STORE_FAILED',
  SQLITE_FULL: 'HERALD_STORE_FAILED', // disk full: may clear when space is freed
  SQLITE_CONSTRAINT: 'HERALD_STORE_REJECTED', // duplicate key, CHECK, NOT NULL, STRICT type
  SQLITE_MISMATCH: 'HERALD_STORE_REJECTED',
  SQLITE_READONLY: 'HERALD_STORE_REJECTED', // write through a read-only connection
  SQLITE_CORRUPT: 'HERALD_STORE_REJECTED',
  SQLITE_NOTADB: 'HERALD_STORE_REJECTED',
  SQLITE_CANTOPEN: 'HERALD_STORE_REJECTED', // missing file / directory, or no permission
  SQLITE_PERM: 'HERALD_STORE_REJECTED',
  SQLITE_AUTH: 'HERALD_STORE_REJECTED',
  SQLITE_ERROR: 'HERALD_STORE_REJECTED', // SQL error / missing table: a bug or a foreign schema
  SQLITE_MISUSE: 'HERALD_STORE_REJECTED',
  SQLITE_RANGE: 'HERALD_STORE_REJECTED',
  SQLITE_TOOBIG: 'HERALD_STORE_REJECTED',
  SQLITE_SCHEMA: 'HERALD_STORE_FAILED', // schema changed under a prepared statement: re-run
};

/** Herald code for a SQLite result code such as `SQLITE_CONSTRAINT_PRIMARYKEY`. */
export function heraldCodeOfSqlite(sqliteCode: string): StoreErrorCode {
  const exact = SQLITE_ERROR_MAP[sqliteCode];
  if (exact !== undefined) return exact;
  const primary = /^SQLITE_[A-Z]+/.exec(sqliteCode)?.[0];
  return (primary === undefined ? undefined : SQLITE_ERROR_MAP[primary]) ?? 'HERALD_STORE_FAILED';
}

/**
 * Turns an error thrown by the driver during `operation` (e.g. `inbox.append`) into a HeraldError
 * with the driver error as `cause`. HeraldErrors and programmer errors are returned unchanged.
 */
export function toStoreError(err: unknown, operation: string): unknown {
  if (err instanceof HeraldError) return err;
  if (err instanceof Database.SqliteError) {
    return new HeraldError(heraldCodeOfSqlite(err.code), `${operation} failed: ${err.code}: ${err.message}`, { cause: err });
  }
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return err;
  return new HeraldError('HERALD_STORE_FAILED', `${operation} failed: ${String(err)}`, { cause: err });
}

/**
 * Runs `fn` against an open database: rejects with `HERALD_STORE_REJECTED` when the store was
 * closed, and maps driver errors with {@link toStoreError}.
 */
export function runOn<T>(db: Database.Database, operation: string, fn: () => T): T {
  if (!db.open) throw new HeraldError('HERALD_STORE_REJECTED', `${operation}: the store is closed`);
  try {
    return fn();
  } catch (err) {
    throw toStoreError(err, operation);
  }
}
