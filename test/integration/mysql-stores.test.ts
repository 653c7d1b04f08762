/**
 * The MySQL stores against the real MariaDB: the SubscriptionStore contract (the same suite the
 * SQLite store passes) on one shard and on two shards, the IdempotencyStore contract on two
 * shards, plus migrations and sharding.
 */
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { openMysqlSubscriptionStore } from '../../stores/mysql/subscription-store.ts';
import { shardOf } from '../../stores/mysql/shard-map.ts';
import { subscriptionStoreContract } from '../contract/subscription-store.contract.ts';
import { idempotencyStoreContract } from '../contract/idempotency-store.contract.ts';
import { openMysqlIdempotencyStore } from '../../stores/mysql/idempotency-store.ts';
import { freshMysqlDatabases } from '../helpers/services.ts';

for (const shards of [1, 2]) {
  subscriptionStoreContract(`mysql, ${shards} shard(s)`, async () => {
    const dbs = await freshMysqlDatabases(shards);
    const store = await openMysqlSubscriptionStore({ shards: dbs.urls });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dbs.drop();
      },
    };
  });
}

idempotencyStoreContract('mysql, 2 shards', async () => {
  const dbs = await freshMysqlDatabases(2);
  const store = await openMysqlIdempotencyStore({ shards: dbs.urls });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dbs.drop();
    },
  };
});

describe('mysql subscription store: migrations and shards', () => {
  it('migrates once (a second open applies nothing) and keeps each topic on its shard', async () => {
    const dbs = await freshMysqlDatabases(2);
    try {
      const a = await openMysqlSubscriptionStore({ shards: dbs.urls });
      const topics = Array.from({ length: 40 }, (_, i) => `t-${i}`);
      for (const t of topics) await a.subscribe(t, 'u1', 1);
      await a.close();
      const b = await openMysqlSubscriptionStore({ shards: dbs.urls });
      expect((await b.topicsOf('u1')).length).toBe(40);
      await b.close();
      for (let s = 0; s < 2; s++) {
        const c = await mysql.createConnection({ uri: dbs.urls[s]! });
        const [versions] = (await c.query('SELECT version FROM herald_schema_migrations')) as unknown as [{ version: number }[]];
        expect(versions.map((v) => v.version)).toEqual([1, 2]);
        const [rows] = (await c.query('SELECT topic_id FROM subscriptions')) as unknown as [{ topic_id: string }[]];
        expect(rows.length).toBeGreaterThan(0);
        for (const r of rows) expect(shardOf(r.topic_id, 2)).toBe(s);
        await c.end();
      }
    } finally {
      await dbs.drop();
    }
  });

  it('rejects an unreachable shard with HERALD_STORE_FAILED', async () => {
    await expect(openMysqlSubscriptionStore({ shards: ['mysql://herald:herald@127.0.0.1:1/herald'] })).rejects.toMatchObject({ code: 'HERALD_STORE_FAILED' });
  });
});
