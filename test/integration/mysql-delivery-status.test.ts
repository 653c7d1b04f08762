/**
 * The MySQL DeliveryStatusStore against the real MariaDB: the contract (the same suite the SQLite
 * and memory stores pass) on one shard and on two, that each user's rows live on the user's
 * shard, and how a key's user_id is found for statusOf.
 */
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { openKafkaProfile } from '../../jobs/profiles/kafka.ts';
import { MysqlDeliveryStatusStore, openMysqlDeliveryStatusStore, userIdsInKey } from '../../stores/mysql/delivery-status-store.ts';
import { shardOf } from '../../stores/mysql/shard-map.ts';
import type { DeliveryStatus } from '../../stores/types.ts';
import { deliveryStatusStoreContract } from '../contract/delivery-status-store.contract.ts';
import { tempDir } from '../helpers/herald.ts';
import { freshMysqlDatabases, kafkaBrokers } from '../helpers/services.ts';

for (const shards of [1, 2]) {
  deliveryStatusStoreContract(`mysql, ${shards} shard(s)`, async () => {
    const dbs = await freshMysqlDatabases(shards);
    const store = await openMysqlDeliveryStatusStore({ shards: dbs.urls });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dbs.drop();
      },
    };
  });
}

describe('mysql delivery status store: migrations, shards, keys', () => {
  it('migrates once (version 401) and keeps each user\'s statuses on the shard of its id', async () => {
    const dbs = await freshMysqlDatabases(2);
    try {
      const users = Array.from({ length: 40 }, (_, i) => `u-${i}`);
      const list: DeliveryStatus[] = users.map((u) => ({ key: `n1:${u}:email`, notification_id: 'n1', user_id: u, channel: 'email', state: 'sent', attempts: 1, updated_at: 1 }));
      const a = await openMysqlDeliveryStatusStore({ shards: dbs.urls });
      await a.record(list);
      await a.close();
      const b = await openMysqlDeliveryStatusStore({ shards: dbs.urls });
      expect((await b.statusOf(list.map((s) => s.key))).size).toBe(40);
      await b.close();
      for (let s = 0; s < 2; s++) {
        const c = await mysql.createConnection({ uri: dbs.urls[s]! });
        const [versions] = (await c.query('SELECT version FROM herald_schema_migrations')) as unknown as [{ version: number }[]];
        expect(versions.map((v) => v.version)).toEqual([401]);
        const [rows] = (await c.query('SELECT user_id FROM delivery_status')) as unknown as [{ user_id: string }[]];
        expect(rows.length).toBeGreaterThan(0);
        for (const r of rows) expect(shardOf(r.user_id, 2)).toBe(s);
        await c.end();
      }
    } finally {
      await dbs.drop();
    }
  });

  it('reads every user_id a key could name', () => {
    expect(userIdsInKey('0190f3a0-0000-7000-8000-000000000001:ada:email')).toEqual(['ada']);
    expect(userIdsInKey('n:ada:push:device-1')).toEqual(['ada']);
    expect(userIdsInKey('n:a:b:sms')).toEqual(['a:b']);
    expect(userIdsInKey('n:x:sms:y:push:dev').sort()).toEqual(['x', 'x:sms:y'].sort());
    expect(userIdsInKey('n:email:sms')).toEqual(['email']);
    expect(userIdsInKey('not-a-key')).toEqual([]);
    expect(userIdsInKey('n::email')).toEqual([]);
  });

  it('the kafka profile keeps delivery statuses in MySQL when shards are set (no delivery-status.db)', async () => {
    const dbs = await freshMysqlDatabases(1);
    const dir = tempDir();
    try {
      const shared = path.join(dir, 'shared');
      const profile = await openKafkaProfile({ brokers: kafkaBrokers(), dataDir: path.join(dir, 'data'), sharedStoreDir: shared, durability: 'process', userLog: 'herald.user', mysqlShards: dbs.urls });
      try {
        expect(profile.deliveryStatuses).toBeInstanceOf(MysqlDeliveryStatusStore);
        const s: DeliveryStatus = { key: 'n1:ada:sms', notification_id: 'n1', user_id: 'ada', channel: 'sms', state: 'sent', attempts: 1, updated_at: 1 };
        await profile.deliveryStatuses.record([s]);
        expect(await profile.deliveryStatuses.deliveriesOf('n1', 'ada')).toEqual([s]);
        expect(fs.existsSync(path.join(shared, 'delivery-status.db'))).toBe(false);
      } finally {
        await profile.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await dbs.drop();
    }
  });

  it('rejects an unreachable shard with HERALD_STORE_FAILED', async () => {
    await expect(openMysqlDeliveryStatusStore({ shards: ['mysql://herald:herald@127.0.0.1:1/herald'] })).rejects.toMatchObject({ code: 'HERALD_STORE_FAILED' });
  });
});
