/**
 * Maps mysql2 failures to Herald errors through one table: {MySQL/driver error code → Herald
 * code}. Connection loss, timeouts, deadlocks and lock waits may be retried
 * (`HERALD_STORE_FAILED`); SQL, schema, permission and data errors may not
 * (`HERALD_STORE_REJECTED`). Programmer errors (TypeError, RangeError) pass through unchanged.
 */
import { HeraldError, isHeraldError, type ErrorCode } from '../../core/errors.ts';

type StoreErrorCode = Extract<ErrorCode, 'HERALD_STORE_FAILED' | 'HERALD_STORE_REJECTED'>;

/** Driver or server error code → Herald code; codes not listed map to HERALD_STORE_FAILED. */
export const MYSQL_ERROR_MAP: Readonly<Record<string, StoreErrorCode>> = {
  ECONNREFUSED: 'HERALD_STORE_FAILED',
  ECONNRESET: 'HERALD_STORE_FAILED',
  ETIMEDOUT: 'HERALD_STORE_FAILED',
  PROTOCOL_CONNECTION_LOST: 'HERALD_STORE_FAILED',
  PROTOCOL_SEQUENCE_TIMEOUT: 'HERALD_STORE_FAILED',
  ER_LOCK_DEADLOCK: 'HERALD_STORE_FAILED',
  ER_LOCK_WAIT_TIMEOUT: 'HERALD_STORE_FAILED',
  ER_CON_COUNT_ERROR: 'HERALD_STORE_FAILED',
  ER_SERVER_SHUTDOWN: 'HERALD_STORE_FAILED',
  ER_PARSE_ERROR: 'HERALD_STORE_REJECTED',
  ER_NO_SUCH_TABLE: 'HERALD_STORE_REJECTED',
  ER_BAD_FIELD_ERROR: 'HERALD_STORE_REJECTED',
  ER_ACCESS_DENIED_ERROR: 'HERALD_STORE_REJECTED',
  ER_DBACCESS_DENIED_ERROR: 'HERALD_STORE_REJECTED',
  ER_BAD_DB_ERROR: 'HERALD_STORE_REJECTED',
  ER_DATA_TOO_LONG: 'HERALD_STORE_REJECTED',
  ER_TRUNCATED_WRONG_VALUE: 'HERALD_STORE_REJECTED',
  ER_DUP_ENTRY: 'HERALD_STORE_REJECTED',
};

/** Wraps a mysql2 error as a HeraldError naming the operation; other errors pass through. */
export function toMysqlStoreError(err: unknown, op: string): unknown {
  if (isHeraldError(err) || err instanceof TypeError || err instanceof RangeError) return err;
  const code = (err as { code?: string }).code ?? '';
  const herald = MYSQL_ERROR_MAP[code] ?? 'HERALD_STORE_FAILED';
  return new HeraldError(herald, `MySQL ${op} failed: ${code ? `${code}: ` : ''}${(err as Error).message}`, { cause: err });
}

/** Runs `fn`, mapping its mysql2 errors with {@link toMysqlStoreError}. */
export async function onMysql<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toMysqlStoreError(err, op);
  }
}
