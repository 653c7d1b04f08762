/**
 * Behavioural contract of {@link SubscriptionStore}, reusable by every implementation
 * (SQLite now; MySQL + Redis later). Call it from a `*.test.ts` file with a factory that returns a
 * fresh, empty store and a cleanup; the factory runs before every test.
 *
 * What it pins down beyond the interface comments: ids are opaque strings compared byte for byte
 * (no numeric coercion, case-sensitive, binary order — a MySQL implementation needs a binary
 * collation), and batch lookups return exactly the requested topics. Paged fan-out: the
 * inline/paged decision follows the count of periods ever created (sticky), and bucket pages
 * list every period of a topic exactly once, in (user hash, user_id, subscribed_at) order.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketRange, userHash, type UserHashRange } from '../../core/user-hash.ts';
import type { Subscriber, SubscriberCursor, SubscriptionStore } from '../../stores/types.ts';
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

    describe('paged fan-out', () => {
      /** Every page of `range`, checking each page's size and that `next` is null only at the end. */
      const readRange = async (topicId: string, range: UserHashRange, limit: number): Promise<{ subs: Subscriber[]; pages: number }> => {
        const subs: Subscriber[] = [];
        let after: SubscriberCursor | null = null;
        let pages = 0;
        for (;;) {
          const page = await store.subscribersInRange(topicId, range, after, limit);
          pages++;
          expect(page.subscribers.length).toBeLessThanOrEqual(limit);
          subs.push(...page.subscribers);
          if (page.next === null) return { subs, pages };
          expect(page.subscribers.length).toBe(limit);
          const last = page.subscribers[page.subscribers.length - 1]!;
          expect(page.next).toEqual({ user_hash: userHash(last.user_id), user_id: last.user_id, subscribed_at: last.subscribed_at });
          after = page.next;
          expect(pages).toBeLessThan(10_000);
        }
      };
      /** (user hash, user_id, subscribed_at) order of bucket pages. */
      const byHash = (a: Subscriber, b: Subscriber): number => userHash(a.user_id) - userHash(b.user_id) || binaryCompare(a.user_id, b.user_id) || a.subscribed_at - b.subscribed_at;
      const everyBucket = (n: number): UserHashRange[] => Array.from({ length: n }, (_, b) => bucketRange(b, n));

      it('small topics are inline with their exact lists (ended periods included); unknown topics are inline []', async () => {
        await store.subscribe('small', 'u2', T0);
        await store.subscribe('small', 'U1', T0 + 1);
        await store.subscribe('small', 'u1', T0 + 2);
        await store.unsubscribe('small', 'u2', T0 + 3);
        await store.subscribe('other', 'x', T0);
        const found = await store.subscribersForFanout(['small', 'nobody', 'other'], 10);
        expect(found.paged).toEqual(new Set());
        expect(found.inline).toEqual(
          new Map([
            ['small', [{ user_id: 'U1', subscribed_at: T0 + 1 }, { user_id: 'u1', subscribed_at: T0 + 2 }, { user_id: 'u2', subscribed_at: T0, unsubscribed_at: T0 + 3 }]],
            ['nobody', []],
            ['other', [{ user_id: 'x', subscribed_at: T0 }]],
          ]),
        );
        expect(await store.subscribersForFanout([], 10)).toEqual({ inline: new Map(), paged: new Set() });
      });

      it('a topic with more periods than maxInline is paged, never inline; exactly maxInline stays inline', async () => {
        for (let i = 0; i < 5; i++) await store.subscribe('big', `u${i}`, T0 + i);
        for (let i = 0; i < 4; i++) await store.subscribe('edge', `u${i}`, T0 + i);
        await store.subscribe('tiny', 'u0', T0);
        const found = await store.subscribersForFanout(['big', 'edge', 'tiny'], 4);
        expect(found.paged).toEqual(new Set(['big']));
        expect([...found.inline.keys()].sort()).toEqual(['edge', 'tiny']);
        expect(found.inline.get('edge')?.map((x) => x.user_id)).toEqual(['u0', 'u1', 'u2', 'u3']);
        // The same topics asked with other bounds: each caller gets the decision for its own bound.
        expect((await store.subscribersForFanout(['big', 'edge'], 3)).paged).toEqual(new Set(['big', 'edge']));
        const roomy = await store.subscribersForFanout(['big', 'edge'], 5);
        expect(roomy.paged).toEqual(new Set());
        expect(roomy.inline.get('big')?.map((x) => x.user_id)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
        expect((await store.subscribersForFanout(['big'], 0)).paged).toEqual(new Set(['big']));
        expect((await store.subscribersForFanout(['nobody'], 0)).inline).toEqual(new Map([['nobody', []]]));
      });

      it('a paged topic stays paged after every subscriber unsubscribed and after the periods were purged (sticky)', async () => {
        for (let i = 0; i < 3; i++) await store.subscribe('t', `u${i}`, T0);
        expect((await store.subscribersForFanout(['t'], 2)).paged).toEqual(new Set(['t']));
        for (let i = 0; i < 3; i++) await store.unsubscribe('t', `u${i}`, T0 + 10);
        expect(await store.subscribersForFanout(['t'], 2)).toEqual({ inline: new Map(), paged: new Set(['t']) });
        expect(await store.purgeUnsubscribed(T0 + 11)).toBe(3);
        expect(await store.subscribersForFanout(['t'], 2)).toEqual({ inline: new Map(), paged: new Set(['t']) });
        // Its (now empty) list is still answered to a caller with room for it.
        expect(await store.subscribersForFanout(['t'], 3)).toEqual({ inline: new Map([['t', []]]), paged: new Set() });
        await store.subscribe('t', 'u9', T0 + 20);
        expect(await store.subscribersForFanout(['t'], 3)).toEqual({ inline: new Map(), paged: new Set(['t']) });
      });

      it('a re-subscribe is a new period and counts; a repeated subscribe does not', async () => {
        await store.subscribe('t', 'u1', T0);
        expect(await store.subscribe('t', 'u1', T0 + 1)).toEqual({ created: false });
        expect((await store.subscribersForFanout(['t'], 1)).inline.get('t')).toEqual([{ user_id: 'u1', subscribed_at: T0 }]);
        await store.unsubscribe('t', 'u1', T0 + 2);
        await store.subscribe('t', 'u1', T0 + 3);
        expect((await store.subscribersForFanout(['t'], 1)).paged).toEqual(new Set(['t']));
        expect((await store.subscribersForFanout(['t'], 2)).inline.get('t')).toEqual([
          { user_id: 'u1', subscribed_at: T0, unsubscribed_at: T0 + 2 },
          { user_id: 'u1', subscribed_at: T0 + 3 },
        ]);
      });

      it('topics repeated in the request are answered once; every asked topic is in exactly one of inline and paged', async () => {
        for (let i = 0; i < 3; i++) await store.subscribe('big', `u${i}`, T0);
        await store.subscribe('small', 'u1', T0);
        const asked = ['big', 'small', 'big', 'none', 'small', 'none', 'big'];
        const found = await store.subscribersForFanout(asked, 2);
        expect(found.paged).toEqual(new Set(['big']));
        expect([...found.inline.keys()].sort()).toEqual(['none', 'small']);
        expect(found.inline.get('small')).toEqual([{ user_id: 'u1', subscribed_at: T0 }]);
      });

      it('a batch mixing many small, empty and paged topics (across shards)', async () => {
        const topics = Array.from({ length: 300 }, (_, i) => `topic-${i}`);
        const size = (i: number) => i % 7; // 0..6 periods; over 4 → paged
        await inWaves(
          topics.flatMap((t, i) => Array.from({ length: size(i) }, (_, j) => [t, `user-${(i * 13 + j * 7) % 50}`] as const)),
          100,
          ([t, u]) => store.subscribe(t, u, T0),
        );
        const found = await store.subscribersForFanout(topics, 4);
        for (const [i, t] of topics.entries()) {
          if (size(i) > 4) {
            expect(found.paged.has(t), t).toBe(true);
            expect(found.inline.has(t), t).toBe(false);
          } else {
            expect(found.paged.has(t), t).toBe(false);
            expect(found.inline.get(t)?.length, t).toBe(size(i));
          }
        }
      });

      it('reading every bucket page by page yields every period exactly once, in (user hash, user_id, subscribed_at) order, each user in its bucket', async () => {
        const users = Array.from({ length: 120 }, (_, i) => `user-${i}`);
        await inWaves(users, 60, (u) => store.subscribe('big', u, T0));
        // Some users have several periods: ended ones are listed too.
        for (const u of users.slice(0, 10)) {
          await store.unsubscribe('big', u, T0 + 5);
          await store.subscribe('big', u, T0 + 6);
        }
        await store.unsubscribe('big', 'user-3', T0 + 7);
        await store.subscribe('noise', 'user-1', T0); // another topic's periods never show up
        const expected = ((await store.subscribersOf(['big'])).get('big') ?? []).slice();
        expect(expected).toHaveLength(130);
        const seen: Subscriber[] = [];
        let pages = 0;
        for (const range of everyBucket(16)) {
          const { subs, pages: n } = await readRange('big', range, 7);
          pages += n;
          expect(subs).toEqual([...subs].sort(byHash));
          for (const x of subs) {
            expect(userHash(x.user_id)).toBeGreaterThanOrEqual(range.from);
            expect(userHash(x.user_id)).toBeLessThan(range.to);
          }
          seen.push(...subs);
        }
        expect(pages).toBeGreaterThan(16);
        expect(seen.sort(byHash)).toEqual(expected.sort(byHash));
        expect(seen.find((x) => x.user_id === 'user-3' && x.subscribed_at === T0 + 6)).toEqual({ user_id: 'user-3', subscribed_at: T0 + 6, unsubscribed_at: T0 + 7 });
        // The whole hash space as one range, too.
        expect((await readRange('big', bucketRange(0, 1), 50)).subs).toEqual(expected.sort(byHash));
      });

      it('a full last page has next null; a page of exactly `limit` with more rows after it has a next', async () => {
        for (let i = 0; i < 6; i++) await store.subscribe('t', `u${i}`, T0);
        const all = bucketRange(0, 1);
        const exact = await store.subscribersInRange('t', all, null, 6);
        expect(exact.subscribers).toHaveLength(6);
        expect(exact.next).toBeNull();
        const first = await store.subscribersInRange('t', all, null, 5);
        expect(first.subscribers).toHaveLength(5);
        expect(first.next).not.toBeNull();
        const rest = await store.subscribersInRange('t', all, first.next, 5);
        expect(rest.subscribers).toHaveLength(1);
        expect(rest.next).toBeNull();
      });

      it('numeric-looking user ids stay distinct strings in pages', async () => {
        const ids = ['1', '01', '1.0', '001', '1e0', '10'];
        for (const id of ids) await store.subscribe('t', id, T0);
        const { subs } = await readRange('t', bucketRange(0, 1), 2);
        expect(subs.map((x) => x.user_id).sort(binaryCompare)).toEqual([...ids].sort(binaryCompare));
        for (const x of subs) expect(typeof x.user_id).toBe('string');
        const buckets = await Promise.all(everyBucket(4).map((r) => readRange('t', r, 1)));
        expect(buckets.flatMap((b) => b.subs.map((x) => x.user_id)).sort(binaryCompare)).toEqual([...ids].sort(binaryCompare));
      });

      it('the cursor steps through several periods of one user (limit 1)', async () => {
        await store.subscribe('t', 'a', T0);
        await store.unsubscribe('t', 'a', T0 + 1);
        await store.subscribe('t', 'a', T0 + 2);
        await store.unsubscribe('t', 'a', T0 + 3);
        await store.subscribe('t', 'a', T0 + 4);
        await store.subscribe('t', 'b', T0);
        const { subs, pages } = await readRange('t', bucketRange(0, 1), 1);
        expect(pages).toBe(4);
        expect(subs.filter((x) => x.user_id === 'a')).toEqual([
          { user_id: 'a', subscribed_at: T0, unsubscribed_at: T0 + 1 },
          { user_id: 'a', subscribed_at: T0 + 2, unsubscribed_at: T0 + 3 },
          { user_id: 'a', subscribed_at: T0 + 4 },
        ]);
        expect(subs).toEqual([...subs].sort(byHash));
      });

      it('an empty range, a range without users and an unknown topic give [] and next null', async () => {
        await store.subscribe('t', 'u1', T0);
        const h = userHash('u1');
        expect(await store.subscribersInRange('t', { from: h, to: h }, null, 10)).toEqual({ subscribers: [], next: null });
        expect(await store.subscribersInRange('t', { from: h + 1, to: 2 ** 32 }, null, 10)).toEqual({ subscribers: [], next: null });
        expect(await store.subscribersInRange('t', { from: 0, to: h }, null, 10)).toEqual({ subscribers: [], next: null });
        expect(await store.subscribersInRange('t', { from: h, to: h + 1 }, null, 10)).toEqual({ subscribers: [{ user_id: 'u1', subscribed_at: T0 }], next: null });
        expect(await store.subscribersInRange('nobody', bucketRange(0, 1), null, 10)).toEqual({ subscribers: [], next: null });
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
