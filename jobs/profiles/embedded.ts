/**
 * The `embedded` profile: one process, no servers. The log is Herald's on-disk partitioned log
 * and the stores are SQLite databases, all under HERALD_DATA_DIR.
 */
import fs from 'node:fs';
import path from 'node:path';
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

/** Everything a profile provides to the job and the edge. */
export interface Profile {
  transport: LogTransport;
  subscriptions: SubscriptionStore;
  inbox: InboxStore;
  dedup: DedupStore;
  idempotency: IdempotencyStore;
  /** How worker threads open the stores the operators read. */
  storeSpecs: StoreSpecs;
  close(): Promise<void>;
}

/**
 * Opens the embedded profile under `dataDir` (created if missing).
 * @param retentionMs retention of log segments, ms
 */
export async function openEmbeddedProfile(dataDir: string, retentionMs: number): Promise<Profile> {
  const storesDir = path.join(dataDir, 'stores');
  fs.mkdirSync(storesDir, { recursive: true });
  const file = (name: string) => path.join(storesDir, name);
  const transport = createEmbeddedTransport({ dataDir, retentionMs });
  const subscriptions = await openSqliteSubscriptionStore({ path: file('subscriptions.db') });
  const inbox = await openSqliteInboxStore({ path: file('inbox.db') });
  const dedup = await openSqliteDedupStore({ path: file('dedup.db') });
  const idempotency = await openSqliteIdempotencyStore({ path: file('idempotency.db') });
  return {
    transport,
    subscriptions,
    inbox,
    dedup,
    idempotency,
    storeSpecs: {
      subscriptions: { kind: 'sqlite', path: file('subscriptions.db') },
      dedup: { kind: 'sqlite', path: file('dedup.db') },
    },
    async close() {
      await transport.close();
      await Promise.all([subscriptions.close(), inbox.close(), dedup.close(), idempotency.close()]);
    },
  };
}
