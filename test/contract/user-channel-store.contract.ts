/**
 * Behavioural contract of {@link UserChannelStore} (users' channel settings and preferences),
 * reusable by every implementation. The factory returns a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PushSubscriptionJson } from '../../sinks/channels/types.ts';
import { MAX_PREFERENCE_TOPICS, MAX_PUSH_SUBSCRIPTIONS, type UserChannelStore, type UserPreferences } from '../../stores/types.ts';

/** Builds a fresh empty store for one test, and how to dispose of it. */
export type UserChannelStoreFactory = () => Promise<{ store: UserChannelStore; cleanup: () => Promise<void> }>;

/** A well-formed push subscription whose endpoint ends in `n` (keys vary with `k`). */
export function pushSub(n: number, k = 0): PushSubscriptionJson {
  return { endpoint: `https://push.example.com/send/${n}`, keys: { p256dh: `B${'A'.repeat(85)}${k}`, auth: `auth-${n}-${k}` } };
}

/** Defines `describe(`UserChannelStore contract: ${name}`)` with the whole suite. */
export function userChannelStoreContract(name: string, factory: UserChannelStoreFactory): void {
  describe(`UserChannelStore contract: ${name}`, () => {
    let store: UserChannelStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('users with nothing stored read as empty settings and default preferences', async () => {
      expect(await store.channelsOf([])).toEqual(new Map());
      expect(await store.channelsOf(['nobody'])).toEqual(new Map([['nobody', { email: null, phone: null, push: [] }]]));
      expect(await store.preferencesOf(['nobody'])).toEqual(new Map([['nobody', { channels: {}, topics: {} }]]));
    });

    it('setChannels stores and returns the settings; a second set replaces them whole', async () => {
      const first = { email: 'ada@example.com', phone: '+14155550123', push: [pushSub(1)] };
      expect(await store.setChannels('ada', first)).toEqual(first);
      expect((await store.channelsOf(['ada'])).get('ada')).toEqual(first);
      const second = { email: null, phone: '+447700900123', push: [] };
      expect(await store.setChannels('ada', second)).toEqual(second);
      expect((await store.channelsOf(['ada'])).get('ada')).toEqual(second);
    });

    it('channelsOf is a batch: many users in one call, each with its own settings, ids as strings', async () => {
      await store.setChannels('007', { email: 'a@example.com', phone: null, push: [] });
      await store.setChannels('7', { email: 'b@example.com', phone: null, push: [] });
      await store.setChannels('Bob', { email: null, phone: '+12025550100', push: [pushSub(2)] });
      const ids = Array.from({ length: 30 }, (_, i) => `user-${i}`);
      for (const id of ids) await store.setChannels(id, { email: `${id}@example.com`, phone: null, push: [] });
      const got = await store.channelsOf(['007', '7', 'bob', 'Bob', '7', ...ids]);
      expect(got.size).toBe(34);
      expect(got.get('007')!.email).toBe('a@example.com');
      expect(got.get('7')!.email).toBe('b@example.com');
      expect(got.get('bob')).toEqual({ email: null, phone: null, push: [] });
      expect(got.get('Bob')).toEqual({ email: null, phone: '+12025550100', push: [pushSub(2)] });
      for (const id of ids) expect(got.get(id)!.email).toBe(`${id}@example.com`);
    });

    it('push subscriptions are deduplicated by endpoint (first position, last keys) and limited', async () => {
      const stored = await store.setChannels('ada', { email: null, phone: null, push: [pushSub(1, 1), pushSub(2), pushSub(1, 2)] });
      expect(stored.push).toEqual([pushSub(1, 2), pushSub(2)]);
      expect((await store.channelsOf(['ada'])).get('ada')!.push).toEqual([pushSub(1, 2), pushSub(2)]);
      const max = Array.from({ length: MAX_PUSH_SUBSCRIPTIONS }, (_, i) => pushSub(i));
      expect((await store.setChannels('ada', { email: null, phone: null, push: [...max, pushSub(0, 9)] })).push).toHaveLength(MAX_PUSH_SUBSCRIPTIONS);
      await expect(store.setChannels('ada', { email: null, phone: null, push: [...max, pushSub(99)] })).rejects.toBeInstanceOf(RangeError);
      expect((await store.channelsOf(['ada'])).get('ada')!.push).toHaveLength(MAX_PUSH_SUBSCRIPTIONS);
    });

    it('keeps only endpoint and keys of a push subscription', async () => {
      const extra = { ...pushSub(1), expirationTime: null, keys: { ...pushSub(1).keys, other: 'x' } } as unknown as PushSubscriptionJson;
      expect((await store.setChannels('ada', { email: null, phone: null, push: [extra] })).push).toEqual([pushSub(1)]);
      expect((await store.channelsOf(['ada'])).get('ada')!.push).toEqual([pushSub(1)]);
    });

    it('removePushSubscription removes one endpoint and leaves the rest', async () => {
      await store.setChannels('ada', { email: 'ada@example.com', phone: null, push: [pushSub(1), pushSub(2), pushSub(3)] });
      expect(await store.removePushSubscription('ada', pushSub(2).endpoint)).toEqual({ removed: true });
      expect(await store.removePushSubscription('ada', pushSub(2).endpoint)).toEqual({ removed: false });
      expect(await store.removePushSubscription('nobody', pushSub(1).endpoint)).toEqual({ removed: false });
      expect((await store.channelsOf(['ada'])).get('ada')).toEqual({ email: 'ada@example.com', phone: null, push: [pushSub(1), pushSub(3)] });
    });

    it('concurrent removals of different endpoints of one user all take effect', async () => {
      const subs = Array.from({ length: MAX_PUSH_SUBSCRIPTIONS }, (_, i) => pushSub(i));
      await store.setChannels('ada', { email: null, phone: null, push: subs });
      const results = await Promise.all(subs.slice(0, 6).map((s) => store.removePushSubscription('ada', s.endpoint)));
      expect(results.every((r) => r.removed)).toBe(true);
      expect((await store.channelsOf(['ada'])).get('ada')!.push).toEqual(subs.slice(6));
    });

    it('setPreferences stores and returns the preferences (only boolean switches kept); a second set replaces them', async () => {
      const prefs = { channels: { email: false, push: true }, topics: { news: { sms: false, in_app: true }, 'orders:1': { email: true } } };
      expect(await store.setPreferences('ada', prefs)).toEqual(prefs);
      expect((await store.preferencesOf(['ada', 'bob'])).get('ada')).toEqual(prefs);
      expect((await store.preferencesOf(['ada', 'bob'])).get('bob')).toEqual({ channels: {}, topics: {} });
      const loose = { channels: { email: true, fax: true }, topics: { a: {}, b: { push: false, x: 1 } } } as never;
      expect(await store.setPreferences('ada', loose)).toEqual({ channels: { email: true }, topics: { b: { push: false } } });
      expect((await store.preferencesOf(['ada'])).get('ada')).toEqual({ channels: { email: true }, topics: { b: { push: false } } });
    });

    it(`preferences hold up to ${MAX_PREFERENCE_TOPICS} topics, more is refused`, async () => {
      const topics = Object.fromEntries(Array.from({ length: MAX_PREFERENCE_TOPICS }, (_, i) => [`topic-${'x'.repeat(100)}-${i}`, { email: false, sms: true, push: false, in_app: true }]));
      await store.setPreferences('ada', { channels: {}, topics });
      expect(Object.keys((await store.preferencesOf(['ada'])).get('ada')!.topics)).toHaveLength(MAX_PREFERENCE_TOPICS);
      await expect(store.setPreferences('ada', { channels: {}, topics: { ...topics, one_more: { email: true } } })).rejects.toBeInstanceOf(RangeError);
    });

    it('a topic named __proto__ is just a topic', async () => {
      const prefs = JSON.parse('{"channels":{},"topics":{"__proto__":{"email":false},"toString":{"sms":true}}}') as UserPreferences;
      const stored = await store.setPreferences('ada', prefs);
      expect(Object.keys(stored.topics).sort()).toEqual(['__proto__', 'toString']);
      const read = (await store.preferencesOf(['ada'])).get('ada')!;
      expect(Object.hasOwn(read.topics, '__proto__')).toBe(true);
      expect(read.topics['__proto__']).toEqual({ email: false });
    });

    it('settings and preferences of one user are independent', async () => {
      await store.setPreferences('ada', { channels: { sms: false }, topics: {} });
      await store.setChannels('ada', { email: 'ada@example.com', phone: null, push: [] });
      expect((await store.preferencesOf(['ada'])).get('ada')).toEqual({ channels: { sms: false }, topics: {} });
    });

    it('a closed store rejects', async () => {
      await store.close();
      await expect(store.channelsOf(['ada'])).rejects.toBeDefined();
    });
  });
}
