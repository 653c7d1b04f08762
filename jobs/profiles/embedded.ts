/**
 * The `embedded` profile: one process, no servers. The log is Herald's on-disk partitioned log
 * and the stores are SQLite databases, all under HERALD_DATA_DIR.
 */
import path from 'node:path';
import { createEmbeddedTransport } from '../../log/embedded/index.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { Profile } from './profile.ts';
import { openSqliteStores } from './sqlite-stores.ts';
import { MemoryPresenceStore } from '../../stores/memory-presence.ts';

export type { Profile } from './profile.ts';
export { INBOX_SHARDS } from './sqlite-stores.ts';

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
    const transport = createEmbeddedTransport({ dataDir, retentionMs, fsync: durability === 'machine' ? 'batch' : 'never' });
    const stores = await openSqliteStores({ sharedDir: storesDir, localDir: storesDir, durability, transport, userLog, ownership: false });
    return {
      kind: 'embedded',
      transport,
      ...stores,
      subscriptions: stores.subscriptions!,
      idempotency: stores.idempotency!,
      userChannels: stores.userChannels!,
      templates: stores.templates!,
      deliveryStatuses: stores.deliveryStatuses!,
      presence: new MemoryPresenceStore(),
      async close() {
        await transport.close();
        await stores.close();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
