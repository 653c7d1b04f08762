/**
 * The MySQL TemplateStore against the real MariaDB: the contract (the same suite the SQLite
 * store passes), and that only the first shard holds the tables.
 */
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { openMysqlTemplateStore } from '../../stores/mysql/template-store.ts';
import { templateStoreContract } from '../contract/template-store.contract.ts';
import { freshMysqlDatabases } from '../helpers/services.ts';

templateStoreContract('mysql', async () => {
  const dbs = await freshMysqlDatabases(1);
  const store = await openMysqlTemplateStore({ shards: dbs.urls });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dbs.drop();
    },
  };
});

describe('mysql template store: migrations and the first shard', () => {
  it('migrates once (version 301), on the first shard only', async () => {
    const dbs = await freshMysqlDatabases(2);
    try {
      const a = await openMysqlTemplateStore({ shards: dbs.urls });
      await a.putTemplate({ template_id: 'welcome', content: { sms: { text: 'Hi {{name}}' } }, updated_at: 42 });
      await a.setTopicSettings('alerts', { critical: true });
      await a.close();
      const b = await openMysqlTemplateStore({ shards: dbs.urls });
      expect(await b.getTemplate('welcome')).toEqual({ template_id: 'welcome', content: { sms: { text: 'Hi {{name}}' } }, updated_at: 42 });
      expect(await b.topicSettings('alerts')).toEqual({ critical: true });
      await b.close();
      const first = await mysql.createConnection({ uri: dbs.urls[0]! });
      const [versions] = (await first.query('SELECT version FROM herald_schema_migrations')) as unknown as [{ version: number }[]];
      expect(versions.map((v) => v.version)).toEqual([301]);
      await first.end();
      const second = await mysql.createConnection({ uri: dbs.urls[1]! });
      const [tables] = (await second.query("SHOW TABLES LIKE 'templates'")) as unknown as [unknown[]];
      expect(tables).toHaveLength(0);
      await second.end();
    } finally {
      await dbs.drop();
    }
  });

  it('rejects an unreachable shard with HERALD_STORE_FAILED, and no shard with a RangeError', async () => {
    await expect(openMysqlTemplateStore({ shards: ['mysql://herald:herald@127.0.0.1:1/herald'] })).rejects.toMatchObject({ code: 'HERALD_STORE_FAILED' });
    await expect(openMysqlTemplateStore({ shards: [] })).rejects.toBeInstanceOf(RangeError);
  });
});
