/**
 * Behavioural contract of {@link TemplateStore} (notification templates and per-topic settings),
 * reusable by every implementation. The factory returns a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelContent } from '../../core/types.ts';
import type { TemplateStore } from '../../stores/types.ts';

/** Builds a fresh empty store for one test, and how to dispose of it. */
export type TemplateStoreFactory = () => Promise<{ store: TemplateStore; cleanup: () => Promise<void> }>;

const welcome: ChannelContent = {
  email: { subject: 'Welcome, {{name}} ✉', text: 'Hi {{name}}', html: '<p>Hi {{name}} — “quoted” 😀</p>' },
  sms: { text: 'Hi {{name}}' },
  push: { title: 'Hi', body: '{{name}} joined', url: 'https://example.com/u/{{id}}' },
};

/** Defines `describe(`TemplateStore contract: ${name}`)` with the whole suite. */
export function templateStoreContract(name: string, factory: TemplateStoreFactory): void {
  describe(`TemplateStore contract: ${name}`, () => {
    let store: TemplateStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('an unknown template is null; put stores and returns it; get reads it back exactly', async () => {
      expect(await store.getTemplate('welcome')).toBeNull();
      const put = await store.putTemplate({ template_id: 'welcome', content: welcome, updated_at: 1_700_000_000_123 });
      expect(put).toEqual({ template_id: 'welcome', content: welcome, updated_at: 1_700_000_000_123 });
      expect(await store.getTemplate('welcome')).toEqual(put);
    });

    it('put replaces the content whole; updated_at never goes back or repeats', async () => {
      await store.putTemplate({ template_id: 'welcome', content: welcome, updated_at: 5_000 });
      const later = await store.putTemplate({ template_id: 'welcome', content: { sms: { text: 'v2' } }, updated_at: 6_000 });
      expect(later).toEqual({ template_id: 'welcome', content: { sms: { text: 'v2' } }, updated_at: 6_000 });
      expect(await store.getTemplate('welcome')).toEqual(later);
      // same millisecond, or a clock behind: one past the replaced version
      const same = await store.putTemplate({ template_id: 'welcome', content: { sms: { text: 'v3' } }, updated_at: 6_000 });
      expect(same.updated_at).toBe(6_001);
      const behind = await store.putTemplate({ template_id: 'welcome', content: { sms: { text: 'v4' } }, updated_at: 10 });
      expect(behind).toEqual({ template_id: 'welcome', content: { sms: { text: 'v4' } }, updated_at: 6_002 });
      expect(await store.getTemplate('welcome')).toEqual(behind);
    });

    it('delete says whether the template existed; ids are exact strings', async () => {
      await store.putTemplate({ template_id: 'Welcome', content: { sms: { text: 'A' } }, updated_at: 1 });
      await store.putTemplate({ template_id: 'welcome', content: { sms: { text: 'a' } }, updated_at: 1 });
      await store.putTemplate({ template_id: '007', content: { sms: { text: 'b' } }, updated_at: 1 });
      expect((await store.getTemplate('7'))).toBeNull();
      expect((await store.getTemplate('Welcome'))!.content).toEqual({ sms: { text: 'A' } });
      expect(await store.deleteTemplate('welcome')).toBe(true);
      expect(await store.getTemplate('welcome')).toBeNull();
      expect(await store.deleteTemplate('welcome')).toBe(false);
      expect(await store.deleteTemplate('nothing')).toBe(false);
      expect((await store.getTemplate('Welcome'))!.content).toEqual({ sms: { text: 'A' } });
      expect((await store.getTemplate('007'))!.content).toEqual({ sms: { text: 'b' } });
      // re-created after a delete
      await store.putTemplate({ template_id: 'welcome', content: { sms: { text: 'again' } }, updated_at: 2 });
      expect((await store.getTemplate('welcome'))!.content).toEqual({ sms: { text: 'again' } });
    });

    it('keeps large content (256 KiB html and text, multi-byte)', async () => {
      const big: ChannelContent = { email: { subject: 's', text: 'é'.repeat(128 * 1024), html: `<p>${'x'.repeat(256 * 1024 - 7)}</p>` } };
      await store.putTemplate({ template_id: 'big', content: big, updated_at: 1 });
      expect(await store.getTemplate('big')).toEqual({ template_id: 'big', content: big, updated_at: 1 });
    });

    it('topic settings: default {critical: false}; set replaces; per topic', async () => {
      expect(await store.topicSettings('news')).toEqual({ critical: false });
      expect(await store.setTopicSettings('news', { critical: true })).toEqual({ critical: true });
      expect(await store.topicSettings('news')).toEqual({ critical: true });
      expect(await store.topicSettings('News')).toEqual({ critical: false });
      expect(await store.topicSettings('other')).toEqual({ critical: false });
      expect(await store.setTopicSettings('news', { critical: false })).toEqual({ critical: false });
      expect(await store.topicSettings('news')).toEqual({ critical: false });
      await store.setTopicSettings('orders:1', { critical: true });
      expect(await store.topicSettings('orders:1')).toEqual({ critical: true });
    });

    it('after close, calls reject', async () => {
      await store.close();
      await store.close(); // idempotent
      await expect(store.getTemplate('x')).rejects.toBeDefined();
      await expect(store.topicSettings('x')).rejects.toBeDefined();
    });
  });
}
