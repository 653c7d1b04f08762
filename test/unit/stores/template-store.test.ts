/** The SQLite TemplateStore: the contract, and its file. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteIdempotencyStore, openSqliteTemplateStore } from '../../../stores/sqlite/index.ts';
import { templateStoreContract } from '../../contract/template-store.contract.ts';

templateStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-templates-'));
  const store = await openSqliteTemplateStore({ path: join(dir, 'templates.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite template store: file', () => {
  it('keeps templates and settings across a reopen, is readable read-only, and refuses another store\'s file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-templates-'));
    try {
      const path = join(dir, 'templates.db');
      const a = await openSqliteTemplateStore({ path, synchronous: 'FULL' });
      await a.putTemplate({ template_id: 'welcome', content: { sms: { text: 'Hi {{name}}' } }, updated_at: 42 });
      await a.setTopicSettings('alerts', { critical: true });
      await a.close();
      const b = await openSqliteTemplateStore({ path });
      expect(await b.getTemplate('welcome')).toEqual({ template_id: 'welcome', content: { sms: { text: 'Hi {{name}}' } }, updated_at: 42 });
      expect(await b.topicSettings('alerts')).toEqual({ critical: true });
      const ro = await openSqliteTemplateStore({ path, readonly: true });
      expect((await ro.getTemplate('welcome'))!.updated_at).toBe(42);
      await expect(ro.setTopicSettings('alerts', { critical: false })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
      await ro.close();
      await b.close();
      await expect(openSqliteIdempotencyStore({ path })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
      await (await openSqliteIdempotencyStore({ path: join(dir, 'other.db') })).close();
      await expect(openSqliteTemplateStore({ path: join(dir, 'other.db') })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
