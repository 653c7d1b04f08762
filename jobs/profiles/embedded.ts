/**
 * The `embedded` profile: one process, no servers. The log is Herald's on-disk partitioned log
 * and the stores are SQLite databases, all under HERALD_DATA_DIR.
 */
import fs from 'node:fs';
import path from 'node:path';
import { lockDataDir } from './data-dir-lock.ts';
import { partitionFor } from '../../log/murmur2.ts';
import { createShardedInbox } from '../../stores/sharded-inbox.ts';

/**
 * SQLite files (and writer threads) the inbox is split into, by user. Part of the data layout:
 * the file names carry it, so a data directory is never read with another count.
 */
export const INBOX_SHARDS = 2;
import { createEmbeddedTransport } from '../../log/embedded/index.ts';
import {
  openSqliteDedupStore,
  openSqliteIdempotencyStore,
  openSqliteInboxStore,
  openSqliteSubscriptionStore,
} from '../../stores/sqlite/index.ts';
import { createThreadedInboxWriter } from '../../sinks/edge-delivery/index.ts';
import type { Profile } from './profile.ts';

export type { Profile } from './profile.ts';

/**
 * Opens the embedded profile under `dataDir` (created if missing).
 * @param retentionMs retention of log segments, ms
 * @param durability `process`: no fsync (survives kill -9); `machine`: fsync log appends and
 *   SQLite commits (survives power loss)
 * @param userLog the user log topic: a user's inbox shard follows its partition there
 * @throws HeraldError HERALD_LOG_DIR_LOCKED when another running process holds `dataDir`, or the
 *   log/store errors of opening them
 */
export async function openEmbeddedProfile(
  dataDir: string,
  retentionMs: number,
  durability: 'process' | 'machine' = 'process',
  userLog = 'herald.user',
): Promise<Profile> {
  const lock = lockDataDir(dataDir);
  try {
    const storesDir = path.join(dataDir, 'stores');
    fs.mkdirSync(storesDir, { recursive: true });
    const file = (name: string) => path.join(storesDir, name);
    const synchronous = durability === 'machine' ? 'FULL' : 'OFF';
    const transport = createEmbeddedTransport({ dataDir, retentionMs, fsync: durability === 'machine' ? 'batch' : 'never' });
    const subscriptions = await openSqliteSubscriptionStore({ path: file('subscriptions.db'), synchronous });
    // The inbox is split by user into INBOX_SHARDS SQLite files, each with its own writer thread.
    const inboxFile = (shard: number) => file(`inbox-${shard}-of-${INBOX_SHARDS}.db`);
    const shards = await Promise.all(Array.from({ length: INBOX_SHARDS }, (_, s) => openSqliteInboxStore({ path: inboxFile(s), synchronous })));
    // The partition count is read when first needed: the topic is created after the profile opens.
    const inbox = createShardedInbox(shards, (userId) => partitionFor(userId, transport.partitionCount(userLog)) % INBOX_SHARDS);
    const dedup = await openSqliteDedupStore({ path: file('dedup.db'), synchronous });
    const idempotency = await openSqliteIdempotencyStore({ path: file('idempotency.db'), synchronous });
    return {
      kind: 'embedded',
      transport,
      ownership: null,
      subscriptions,
      inbox,
      dedup,
      idempotency,
      createInboxWriters: () => Array.from({ length: INBOX_SHARDS }, (_, s) => createThreadedInboxWriter({ kind: 'sqlite', path: inboxFile(s), synchronous })),
      storeSpecs: {
        subscriptions: { kind: 'sqlite', path: file('subscriptions.db') },
        dedup: { kind: 'sqlite', path: file('dedup.db') },
      },
      async close() {
        await transport.close();
        await Promise.all([subscriptions.close(), inbox.close(), dedup.close(), idempotency.close()]);
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
