import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteOwnershipStore } from '../../../stores/sqlite/index.ts';
import { ownershipStoreContract } from '../../contract/ownership-store.contract.ts';

ownershipStoreContract('sqlite', async () => {
  let clock = 1_700_000_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'herald-ownership-'));
  const store = await openSqliteOwnershipStore({ path: join(dir, 'ownership.db') }, () => clock);
  return {
    store,
    advance: async (ms: number) => {
      clock += ms;
    },
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
