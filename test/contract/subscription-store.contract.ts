/**
 * Behavioural contract of {@link SubscriptionStore}, reusable by every implementation
 * (SQLite now; MySQL + Redis later). Call it from a `*.test.ts` file with a factory that returns a
 * fresh, empty store and a cleanup; the factory runs before every test.
 *
 * What it pins down beyond the interface comments: ids are opaque strings compared byte for byte
 * (no numeric coercion, case-sensitive, binary order — a MySQL implementation needs a binary
 * collation), and batch lookups return exactly the requested topics.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SubscriptionStore } from '../../stores/types.ts';
import { T0, binaryCompare, inWaves, shuffled } from './fixtures.ts';

/** Builds a fresh empty store for one test, and how to dispose of it. */
export type SubscriptionStoreFactory = () => Promise<{ store: SubscriptionStore; cleanup: () => Promise<void> }>;

/** Defines `describe(`SubscriptionStore contract: ${name}`)` with the whole suite. */
export function subscriptionStoreContract(name: string, factory: SubscriptionStoreFactory): void {
  describe(`SubscriptionStore contract: ${name}`, () => {
    let store: SubscriptionStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    /** Users subscribed now (ended subscriptions are listed too, with unsubscribed_at). */
    const userIdsOf = async (topicId: string): Promise<string[]> =>
      ((await store.subscribersOf([topicId])).get(topicId) ?? []).filter((s) => s.unsubscribed_at === undefined).map((s) => s.user_id);

    describe('subscribe / unsubscribe', () => {
      it('subscribe creates once, then reports created=false and keeps subscribed_at', async () => {
        expect(await store.subscribe('t1', 'u1', T0)).toEqual({ created: true });
        expect(await store.subscribe('t1', 'u1', T0 + 5_000)).toEqual({ created: false });
        const subs = await store.subscribersOf(['t1']);
        expect(subs.get('t1')).toEqual([{ user_id: 'u1', subscribed_at: T0 }]);
      });

      it('unsubscribe removes once, then reports removed=false', async () => {
        await store.subscribe('t1', 'u1', T0);
        expect(await store.unsubscribe('t1', 'u1', T0 + 10)).toEqual({ removed: true });
        expect(await store.unsubscribe('t1', 'u1', T0 + 20)).toEqual({ removed: false });
        expect(await userIdsOf('t1')).toEqual([]);
        expect(await store.topicsOf('u1')).toEqual([]);
      });

      it('keeps an ended subscription with its end time (publishes made before it still reach the user) until purged', async () => {
        await store.subscribe('t1', 'u1', T0);
        await store.subscribe('t1', 'u2', T0);
        await store.unsubscribe('t1', 'u1', T0 + 10);
        expect((await store.subscribersOf(['t1'])).get('t1')).toEqual([
          { user_id: 'u1', subscribed_at: T0, unsubscribed_at: T0 + 10 },
          { user_id: 'u2', subscribed_at: T0 },
        ]);
        expect(await store.purgeUnsubscribed(T0 + 10)).toBe(0); // ended at T0+10: not before it
        expect(await store.purgeUnsubscribed(T0 + 11)).toBe(1);
        expect((await store.subscribersOf(['t1'])).get('t1')).toEqual([{ user_id: 'u2', subscribed_at: T0 }]);
      });

      it('unsubscribe of something never subscribed is removed=false', async () => {
        await store.subscribe('t1', 'u1', T0);
        expect(await store.unsubscribe('t1', 'u2')).toEqual({ removed: false });
        expect(await store.unsubscribe('t2', 'u1')).toEqual({ removed: false });
        expect(await userIdsOf('t1')).toEqual(['u1']);
      });

      it('subscribing again after unsubscribing creates a new subscription with the new time', async () => {
        await store.subscribe('t1', 'u1', T0);
        await store.unsubscribe('t1', 'u1', T0 + 1);
        expect(await store.subscribe('t1', 'u1', T0 + 2)).toEqual({ created: true });
        expect(await store.subscribe('t1', 'u1', T0 + 3)).toEqual({ created: false });
        // Both periods: a publish made during the first still reaches u1 when fanned out later.
        expect((await store.subscribersOf(['t1'])).get('t1')).toEqual([
          { user_id: 'u1', subscribed_at: T0, unsubscribed_at: T0 + 1 },
          { user_id: 'u1', subscribed_at: T0 + 2 },
        ]);
        expect(await store.topicsOf('u1')).toEqual(['t1']);
      });

      it('unsubscribing one pair leaves the other subscriptions of that topic and user alone', async () => {
        await store.subscribe('t1', 'u1', T0);
        await store.subscribe('t1', 'u2', T0);
        await store.subscribe('t2', 'u1', T0);
        await store.unsubscribe('t1', 'u1');
        expect(await userIdsOf('t1')).toEqual(['u2']);
        expect(await store.topicsOf('u1')).toEqual(['t2']);
      });

      it('concurrent subscribes of the same pair create it exactly once', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.subscribe('t1', 'u1', T0 + i)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(await userIdsOf('t1')).toEqual(['u1']);
      });
    });

    describe('subscribersOf (batch lookup)', () => {
      it('no topics gives an empty map', async () => {
        await store.subscribe('t1', 'u1', T0);
        const result = await store.subscribersOf([]);
        expect(result.size).toBe(0);
      });

      it('one topic with subscribers, ordered by user_id in binary order', async () => {
        const users = ['u10', 'u2', 'U3', 'u1', 'a', 'Z', '0', 'u1.x', 'u1-x', 'u1:x', 'u1_x'];
        for (const [i, u] of shuffled(users).entries()) await store.subscribe('t1', u, T0 + i);
        const subs = (await store.subscribersOf(['t1'])).get('t1') ?? [];
        expect(subs.map((s) => s.user_id)).toEqual([...users].sort(binaryCompare));
        for (const s of subs) expect(typeof s.subscribed_at).toBe('number');
      });

      it('maps exactly the requested topics; topics without subscribers map to []', async () => {
        await store.subscribe('t1', 'u1', T0);
        await store.subscribe('t2', 'u2', T0);
        await store.subscribe('t3', 'u3', T0);
        const result = await store.subscribersOf(['t1', 'nobody', 't3']);
        expect([...result.keys()].sort()).toEqual(['nobody', 't1', 't3']);
        expect(result.get('nobody')).toEqual([]);
        expect(result.get('t1')?.map((s) => s.user_id)).toEqual(['u1']);
        expect(result.get('t3')?.map((s) => s.user_id)).toEqual(['u3']);
      });

      it('a topic repeated in the request is answered once, without doubled subscribers', async () => {
        await store.subscribe('t1', 'u1', T0);
        await store.subscribe('t1', 'u2', T0);
        const result = await store.subscribersOf(['t1', 't1', 't1']);
        expect(result.size).toBe(1);
        expect(result.get('t1')?.map((s) => s.user_id)).toEqual(['u1', 'u2']);
      });

      it('only topics with no subscribers at all', async () => {
        const result = await store.subscribersOf(['x', 'y']);
        expect(result).toEqual(new Map([['x', []], ['y', []]]));
      });

      it('subscribers never leak between topics that share a prefix', async () => {
        await store.subscribe('t1', 'u1', T0);
        await store.subscribe('t10', 'u10', T0);
        await store.subscribe('t1.0', 'u100', T0);
        const result = await store.subscribersOf(['t1', 't10', 't1.0', 't']);
        expect(result.get('t1')?.map((s) => s.user_id)).toEqual(['u1']);
        expect(result.get('t10')?.map((s) => s.user_id)).toEqual(['u10']);
        expect(result.get('t1.0')?.map((s) => s.user_id)).toEqual(['u100']);
        expect(result.get('t')).toEqual([]);
      });

      it('5,000 topics in one lookup (every 3rd without subscribers)', async () => {
        const topics = Array.from({ length: 5_000 }, (_, i) => `topic-${i}`);
        const pairs = topics.flatMap((t, i) => (i % 3 === 2 ? [] : [[t, `user-${i % 97}`], [t, `user-${(i * 7) % 89}x`]] as const));
        await inWaves(pairs, 500, ([t, u]) => store.subscribe(t, u, T0));
        const result = await store.subscribersOf(topics);
        expect(result.size).toBe(5_000);
        for (const [i, t] of topics.entries()) {
          const got = result.get(t)?.map((s) => s.user_id);
          if (i % 3 === 2) expect(got).toEqual([]);
          else expect(got).toEqual([`user-${i % 97}`, `user-${(i * 7) % 89}x`].sort(binaryCompare));
        }
      });

      it('10,000 subscribers of one topic, all returned in order', async () => {
        const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
        await inWaves(shuffled(users), 500, (u) => store.subscribe('big', u, T0));
        await store.subscribe('small', 'user-1', T0);
        const result = await store.subscribersOf(['big', 'small']);
        expect(result.get('big')?.map((s) => s.user_id)).toEqual([...users].sort(binaryCompare));
        expect(result.get('small')?.map((s) => s.user_id)).toEqual(['user-1']);
      });
    });

    describe('topicsOf', () => {
      it('lists the topics of a user in binary topic_id order; unknown user gives []', async () => {
        const topics = ['b', 'a', 'B', 't10', 't9', 't1'];
        for (const t of topics) await store.subscribe(t, 'u1', T0);
        await store.subscribe('other', 'u2', T0);
        expect(await store.topicsOf('u1')).toEqual([...topics].sort(binaryCompare));
        expect(await store.topicsOf('nobody')).toEqual([]);
      });
    });

    describe('ids are opaque strings', () => {
      it('numeric-looking ids stay strings and stay distinct', async () => {
        const ids = ['007', '7', '7.0', '1e3', '1000', '0', '00', '-1', '0x10', '16'];
        for (const id of ids) {
          await store.subscribe(id, id, T0);
        }
        const result = await store.subscribersOf(ids);
        for (const id of ids) {
          const subs = result.get(id) ?? [];
          expect(subs.map((s) => s.user_id)).toEqual([id]);
          expect(typeof subs[0]?.user_id).toBe('string');
          expect(await store.topicsOf(id)).toEqual([id]);
        }
        expect([...result.keys()].every((k) => typeof k === 'string')).toBe(true);
      });

      it('ids are case-sensitive', async () => {
        await store.subscribe('Topic', 'User', T0);
        await store.subscribe('topic', 'user', T0);
        expect(await userIdsOf('Topic')).toEqual(['User']);
        expect(await userIdsOf('topic')).toEqual(['user']);
        expect(await userIdsOf('TOPIC')).toEqual([]);
      });

      it('the whole id charset (letters, digits, . _ : -) and 128-character ids round-trip', async () => {
        const long = 'a'.repeat(64) + 'Z'.repeat(63) + '9';
        const ids = ['a.b', 'a_b', 'a:b', 'a-b', 'A.Z_0:9-', long, '.', '_', ':', '-', 'tenant:42:user.7'];
        // Topic ids obey the same 128-character limit: the longest id is its own topic.
        const topicOf = (id: string) => (id === long ? long : `t-${id}`);
        for (const id of ids) await store.subscribe(topicOf(id), id, T0);
        for (const id of ids) await store.subscribe('all', id, T0);
        expect(await userIdsOf('all')).toEqual([...ids].sort(binaryCompare));
        for (const id of ids) expect(await store.topicsOf(id)).toEqual(['all', topicOf(id)].sort(binaryCompare));
      });
    });
  });
}
