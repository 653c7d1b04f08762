/**
 * The SQLite stores of a profile: subscriptions, the inbox split by user into INBOX_SHARDS files
 * (each with its own writer thread), Idempotency-Key claims and, when asked, edge partition
 * ownership in `sharedDir`; the dedup confirm store in `localDir`. The embedded profile passes one
 * directory for both; the kafka profile shares `sharedDir` between the processes of a machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogTransport } from '../../log/types.ts';
import { partitionFor } from '../../log/murmur2.ts';
import { createThreadedInboxWriter } from '../../sinks/edge-delivery/index.ts';
import { createShardedInbox } from '../../stores/sharded-inbox.ts';
import {
  openSqliteDedupStore,
  openSqliteDeliveryStatusStore,
  openSqliteIdempotencyStore,
  openSqliteInboxStore,
  openSqliteOwnershipStore,
  openSqliteSubscriptionStore,
  openSqliteTemplateStore,
  openSqliteUserChannelStore,
} from '../../stores/sqlite/index.ts';
import type { Profile } from './profile.ts';

/**
 * SQLite files (and writer threads) the inbox is split into, by user. Part of the data layout:
 * the file names carry it, so a data directory is never read with another count.
 */
export const INBOX_SHARDS = 2;

/** Where and how to open the stores. */
export interface SqliteStoresOptions {
  sharedDir: string;
  localDir: string;
  durability: 'process' | 'machine';
  /** The log whose partition of a user picks the user's inbox shard (partition % INBOX_SHARDS). */
  transport: LogTransport;
  userLog: string;
  /** Open the edge partition-ownership store (kafka profile). */
  ownership: boolean;
  /** Open the subscription store (false when MySQL holds subscriptions). Default true. */
  subscriptions?: boolean;
  /** Open the Idempotency-Key store (false when MySQL holds the claims). Default true. */
  idempotency?: boolean;
  /** Open the user channel store (false when MySQL holds it). Default true. */
  userChannels?: boolean;
  /** Open the template store, `templates.db` (false when MySQL holds it). Default true. */
  templates?: boolean;
  /** Open the delivery status store (false when MySQL holds it). Default true. */
  deliveryStatuses?: boolean;
}

/** The store part of a {@link Profile}, and how to close it. */
export type SqliteStores = Pick<Profile, 'inbox' | 'dedup' | 'ownership' | 'storeSpecs' | 'createInboxWriters'> & {
  /** Null when `subscriptions: false`. */
  subscriptions: Profile['subscriptions'] | null;
  /** Null when `idempotency: false`. */
  idempotency: Profile['idempotency'] | null;
  /** Null when `userChannels: false`. */
  userChannels: Profile['userChannels'] | null;
  /** Null when `templates: false`. */
  templates: Profile['templates'] | null;
  /** Null when `deliveryStatuses: false`. */
  deliveryStatuses: Profile['deliveryStatuses'] | null;
  close(): Promise<void>;
};

/**
 * Opens (creating directories and migrating files as needed) every store.
 * @throws HeraldError HERALD_STORE_FAILED / HERALD_STORE_REJECTED from a file that cannot be opened
 */
export async function openSqliteStores(o: SqliteStoresOptions): Promise<SqliteStores> {
  fs.mkdirSync(o.sharedDir, { recursive: true });
  fs.mkdirSync(o.localDir, { recursive: true });
  const shared = (name: string) => path.join(o.sharedDir, name);
  const local = (name: string) => path.join(o.localDir, name);
  // `process`: commits reach the OS (survive kill -9); `machine`: fsynced (survive power loss).
  const synchronous = o.durability === 'machine' ? 'FULL' : 'OFF';
  const subscriptions = o.subscriptions === false ? null : await openSqliteSubscriptionStore({ path: shared('subscriptions.db'), synchronous });
  const inboxFile = (shard: number) => shared(`inbox-${shard}-of-${INBOX_SHARDS}.db`);
  const shards = await Promise.all(Array.from({ length: INBOX_SHARDS }, (_, s) => openSqliteInboxStore({ path: inboxFile(s), synchronous })));
  // The partition count is read when first needed: the topic is created after the profile opens.
  const inbox = createShardedInbox(shards, (userId) => partitionFor(userId, o.transport.partitionCount(o.userLog)) % INBOX_SHARDS);
  const dedup = await openSqliteDedupStore({ path: local('dedup.db'), synchronous });
  const idempotency = o.idempotency === false ? null : await openSqliteIdempotencyStore({ path: shared('idempotency.db'), synchronous });
  const userChannels = o.userChannels === false ? null : await openSqliteUserChannelStore({ path: shared('user-channels.db'), synchronous });
  const templates = o.templates === false ? null : await openSqliteTemplateStore({ path: shared('templates.db'), synchronous });
  const deliveryStatuses = o.deliveryStatuses === false ? null : await openSqliteDeliveryStatusStore({ path: shared('delivery-status.db'), synchronous });
  const ownership = o.ownership ? await openSqliteOwnershipStore({ path: shared('ownership.db'), synchronous }) : null;
  return {
    subscriptions,
    inbox,
    dedup,
    idempotency,
    userChannels,
    templates,
    deliveryStatuses,
    ownership,
    createInboxWriters: () => Array.from({ length: INBOX_SHARDS }, (_, s) => createThreadedInboxWriter({ kind: 'sqlite', path: inboxFile(s), synchronous })),
    storeSpecs: {
      subscriptions: { kind: 'sqlite', path: shared('subscriptions.db') },
      dedup: { kind: 'sqlite', path: local('dedup.db') },
    },
    async close() {
      await Promise.all([subscriptions?.close(), inbox.close(), dedup.close(), idempotency?.close(), userChannels?.close(), templates?.close(), deliveryStatuses?.close(), ownership?.close()]);
    },
  };
}
