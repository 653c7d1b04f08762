/** The sharded inbox passes the same InboxStore contract as one store, over three SQLite shards. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionFor } from '../../../log/murmur2.ts';
import { createShardedInbox } from '../../../stores/sharded-inbox.ts';
import { openSqliteInboxStore } from '../../../stores/sqlite/index.ts';
import { inboxStoreContract } from '../../contract/inbox-store.contract.ts';

inboxStoreContract('sharded over 3 sqlite files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-sharded-'));
  const shards = await Promise.all([0, 1, 2].map((i) => openSqliteInboxStore({ path: join(dir, `inbox-${i}.db`) })));
  const store = createShardedInbox(shards, (userId) => partitionFor(userId, 12) % 3);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
