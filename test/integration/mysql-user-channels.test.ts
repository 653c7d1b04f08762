/**
 * The MySQL UserChannelStore against the real MariaDB: the contract (the same suite the SQLite
 * store passes) on one shard and on two, and that each user's rows live on the user's shard.
 */
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../stores/mysql/shard-map.ts';
import { openMysqlUserChannelStore } from '../../stores/mysql/user-channel-store.ts';
import { userChannelStoreContract } from '../contract/user-channel-store.contract.ts';
import { freshMysqlDatabases } from '../helpers/services.ts';

for (const shards of [1, 2]) {
  userChannelStoreContract(`mysql, ${shards} shard(s)`, async () => {
    const dbs = await freshMysqlDatabases(shards);
    const store = await openMysqlUserChannelStore({ shards: dbs.urls });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dbs.drop();
      },
    };
  });
}

describe('mysql user channel store: migrations and shards', () => {
  it('migrates once (version 201) and keeps each user on the shard of its id', async () => {
    const dbs = await freshMysqlDatabases(2);
    try {
      const a = await openMysqlUserChannelStore({ shards: dbs.urls });
      const users = Array.from({ length: 40 }, (_, i) => `u-${i}`);
      for (const u of users) {
        await a.setChannels(u, { email: `${u}@example.com`, phone: null, push: [] });
        await a.setPreferences(u, { channels: { sms: false }, topics: {} });
      }
      await a.close();
      const b = await openMysqlUserChannelStore({ shards: dbs.urls });
      const got = await b.channelsOf(users);
      for (const u of users) expect(got.get(u)!.email).toBe(`${u}@example.com`);
      await b.close();
      for (let s = 0; s < 2; s++) {
        const c = await mysql.createConnection({ uri: dbs.urls[s]! });
        const [versions] = (await c.query('SELECT version FROM herald_schema_migrations')) as unknown as [{ version: number }[]];
        expect(versions.map((v) => v.version)).toEqual([201]);
        for (const table of ['user_channels', 'user_preferences']) {
          const [rows] = (await c.query(`SELECT user_id FROM ${table}`)) as unknown as [{ user_id: string }[]];
          expect(rows.length).toBeGreaterThan(0);
          for (const r of rows) expect(shardOf(r.user_id, 2)).toBe(s);
        }
        await c.end();
      }
    } finally {
      await dbs.drop();
    }
  });

  it('rejects an unreachable shard with HERALD_STORE_FAILED', async () => {
    await expect(openMysqlUserChannelStore({ shards: ['mysql://herald:herald@127.0.0.1:1/herald'] })).rejects.toMatchObject({ code: 'HERALD_STORE_FAILED' });
  });
});
