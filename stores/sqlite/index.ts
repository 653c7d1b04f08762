/**
 * The embedded (SQLite, better-sqlite3) stores. One database file per store (see
 * {@link sqliteStorePaths}); each can be opened read-write once (the main thread) and read-only
 * from worker threads at the same time. Every factory runs the store's migrations on a read-write
 * open and rejects with `HERALD_STORE_REJECTED` / `HERALD_STORE_FAILED` when the file cannot be
 * opened (see stores/sqlite/open-database.ts).
 */
import type { DedupStore, DeliveryStatusStore, IdempotencyStore, InboxStore, PartitionOwnershipStore, SubscriptionStore, TemplateStore, UserChannelStore } from '../types.ts';
import { SqliteDeliveryStatusStore } from './delivery-status-store.ts';
import { SqliteDedupStore } from './dedup-store.ts';
import { SqliteIdempotencyStore, type SqliteIdempotencyStoreOptions } from './idempotency-store.ts';
import { SqliteInboxStore } from './inbox-store.ts';
import { SqliteOwnershipStore } from './ownership-store.ts';
import type { SqliteStoreOptions } from './options.ts';
import { SqliteSubscriptionStore } from './subscription-store.ts';
import { SqliteTemplateStore } from './template-store.ts';
import { SqliteUserChannelStore } from './user-channel-store.ts';

export { SQLITE_DEFAULTS, SQLITE_FILE_NAMES, sqliteStorePaths, type SqliteStoreOptions } from './options.ts';
export type { SqliteIdempotencyStoreOptions } from './idempotency-store.ts';
export { SQLITE_ERROR_MAP } from './sqlite-errors.ts';

/** Opens the subscription store at `opts.path` (`subscriptions.db`). Read-only from worker threads. */
export async function openSqliteSubscriptionStore(opts: SqliteStoreOptions): Promise<SubscriptionStore> {
  return new SqliteSubscriptionStore(opts);
}

/** Opens the inbox (offline store) at `opts.path` (`inbox.db`). */
export async function openSqliteInboxStore(opts: SqliteStoreOptions): Promise<InboxStore> {
  return new SqliteInboxStore(opts);
}

/** Opens the dedup confirm store at `opts.path` (`dedup.db`). Read-only from worker threads. */
export async function openSqliteDedupStore(opts: SqliteStoreOptions): Promise<DedupStore> {
  return new SqliteDedupStore(opts);
}

/** Opens the Idempotency-Key claim store at `opts.path` (`idempotency.db`); `opts.now` is its clock. */
export async function openSqliteIdempotencyStore(opts: SqliteIdempotencyStoreOptions): Promise<IdempotencyStore> {
  return new SqliteIdempotencyStore(opts);
}

/** Opens the edge partition-ownership store at `opts.path` (`ownership.db`); `now` is its clock (ms). */
export async function openSqliteOwnershipStore(opts: SqliteStoreOptions, now?: () => number): Promise<PartitionOwnershipStore> {
  return new SqliteOwnershipStore(opts, now);
}

/** Opens the users' channel settings and preferences at `opts.path` (`user-channels.db`). */
export async function openSqliteUserChannelStore(opts: SqliteStoreOptions): Promise<UserChannelStore> {
  return new SqliteUserChannelStore(opts);
}

/** Opens the per-channel delivery statuses at `opts.path` (`delivery-status.db`). */
export async function openSqliteDeliveryStatusStore(opts: SqliteStoreOptions): Promise<DeliveryStatusStore> {
  return new SqliteDeliveryStatusStore(opts);
}

/** Opens the notification templates and per-topic settings at `opts.path` (`templates.db`). */
export async function openSqliteTemplateStore(opts: SqliteStoreOptions): Promise<TemplateStore> {
  return new SqliteTemplateStore(opts);
}
