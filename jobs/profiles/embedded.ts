/**
 * The `embedded` profile: one process, no servers. The log is Herald's on-disk partitioned log
 * and the stores are SQLite databases, all under HERALD_DATA_DIR.
 */
import fs from 'node:fs';
import path from 'node:path';
import { lockDataDir } from './data-dir-lock.ts';
import { createEmbeddedTransport } from '../../log/embedded/index.ts';
import type { LogTransport } from '../../log/types.ts';
import type { StoreSpecs } from '../../operators/task.ts';
import {
  openSqliteDedupStore,
  openSqliteIdempotencyStore,
  openSqliteInboxStore,
  openSqliteSubscriptionStore,
} from '../../stores/sqlite/index.ts';
import type { DedupStore, IdempotencyStore, InboxStore, SubscriptionStore } from '../../stores/types.ts';
import { createThreadedInboxWriter, type InboxWriter } from '../../sinks/edge-delivery/index.ts';

/** Everything a profile provides to the job and the edge. */
export interface Profile {
  transport: LogTransport;
  subscriptions: SubscriptionStore;
  inbox: InboxStore;
  dedup: DedupStore;
  idempotency: IdempotencyStore;
  /** How worker threads open the stores the operators read. */
  storeSpecs: StoreSpecs;
  /** A writer of user-log batches into the inbox (the edge stage's sink); close it before the profile. */
  createInboxWriter(): InboxWriter;
  close(): Promise<void>;
}

/**
 * Opens the embedded profile under `dataDir` (created if missing).
 * @param retentionMs retention of log segments, ms
 * @param durability `process`: no fsync (survives kill -9); `machine`: fsync log appends and
 *   SQLite commits (survives power loss)
 * @throws HeraldError HERALD_LOG_DIR_LOCKED when another running process holds `dataDir`, or the
 *   log/store errors of opening them
 */
export async function openEmbeddedProfile(dataDir: string, retentionMs: number, durability: 'process' | 'machine' = 'process'): Promise<Profile> {
  const lock = lockDataDir(dataDir);
  try {
    const storesDir = path.join(dataDir, 'stores');
    fs.mkdirSync(storesDir, { recursive: true });
    const file = (name: string) => path.join(storesDir, name);
    const synchronous = durability === 'machine' ? 'FULL' : 'OFF';
    const transport = createEmbeddedTransport({ dataDir, retentionMs, fsync: durability === 'machine' ? 'batch' : 'never' });
    const subscriptions = await openSqliteSubscriptionStore({ path: file('subscriptions.db'), synchronous });
    const inbox = await openSqliteInboxStore({ path: file('inbox.db'), synchronous });
    const dedup = await openSqliteDedupStore({ path: file('dedup.db'), synchronous });
    const idempotency = await openSqliteIdempotencyStore({ path: file('idempotency.db'), synchronous });
    return {
      transport,
      subscriptions,
      inbox,
      dedup,
      idempotency,
      createInboxWriter: () => createThreadedInboxWriter({ kind: 'sqlite', path: file('inbox.db'), synchronous }),
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
