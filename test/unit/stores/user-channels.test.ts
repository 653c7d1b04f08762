/** The SQLite UserChannelStore: the contract, and its file's migrations. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteUserChannelStore } from '../../../stores/sqlite/index.ts';
import { userChannelStoreContract, pushSub } from '../../contract/user-channel-store.contract.ts';

userChannelStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-user-channels-'));
  const store = await openSqliteUserChannelStore({ path: join(dir, 'user-channels.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite user channel store: file', () => {
  it('keeps settings across a reopen, and refuses another store\'s file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-user-channels-'));
    try {
      const path = join(dir, 'user-channels.db');
      const a = await openSqliteUserChannelStore({ path });
      await a.setChannels('ada', { email: 'ada@example.com', phone: null, push: [pushSub(1)] });
      await a.close();
      const b = await openSqliteUserChannelStore({ path });
      expect((await b.channelsOf(['ada'])).get('ada')).toEqual({ email: 'ada@example.com', phone: null, push: [pushSub(1)] });
      await b.close();
      const { openSqliteIdempotencyStore } = await import('../../../stores/sqlite/index.ts');
      await expect(openSqliteIdempotencyStore({ path })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
