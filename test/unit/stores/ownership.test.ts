import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteOwnershipStore } from '../../../stores/sqlite/index.ts';
import { ownershipStoreContract } from '../../contract/ownership-store.contract.ts';

ownershipStoreContract('sqlite', async (now) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-ownership-'));
  const store = await openSqliteOwnershipStore({ path: join(dir, 'ownership.db') }, now);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
