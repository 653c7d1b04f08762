/**
 * Behavioural contract of {@link InboxStore} (the offline store), reusable by every
 * implementation (SQLite now; HBase later). The factory returns a fresh, empty store per test.
 *
 * Pins down: append flags, message round-trip (strings stay strings), published_at text kept,
 * list order (published_at, id) with strict `sinceMs`, cursor paging without repeats or gaps,
 * malformed cursors → HERALD_EDGE_CURSOR_INVALID, readAfter in seq order with the UUIDv7 time
 * fallback, user isolation, purge.
 *
 * readAfter fallback rules tested here (see stores/sqlite/inbox-store.ts): an unknown id falls back
 * to entries published AT OR AFTER the id's millisecond (never a loss; the id itself excluded);
 * a lastEventId that is not a UUIDv7 falls back from time 0.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../core/types.ts';
import type { InboxStore } from '../../stores/types.ts';
import { T0, entry, notificationAt, shuffled, uuidV7At } from './fixtures.ts';

/** Builds a fresh empty store for one test, and how to dispose of it. */
export type InboxStoreFactory = () => Promise<{ store: InboxStore; cleanup: () => Promise<void> }>;

/** Defines `describe(`InboxStore contract: ${name}`)` with the whole suite. */
export function inboxStoreContract(name: string, factory: InboxStoreFactory): void {
  describe(`InboxStore contract: ${name}`, () => {
    let store: InboxStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    const idsOf = (entries: { notification: Notification }[]): string[] => entries.map((e) => e.notification.id);

    /** Every page of `userId` with `limit`, following cursors to the end. */
    async function allPages(userId: string, limit: number, sinceMs?: number): Promise<Notification[][]> {
      const pages: Notification[][] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 10_000; guard++) {
        const page = await store.list(userId, { limit, ...(sinceMs === undefined ? {} : { sinceMs }), ...(cursor === undefined ? {} : { cursor }) });
        pages.push(page.notifications);
        if (page.next_cursor === null) return pages;
        cursor = page.next_cursor;
      }
      throw new Error('paging did not end');
    }

    describe('append', () => {
      it('returns true per newly stored entry and false for replays', async () => {
        const a = notificationAt(T0, 1);
        const b = notificationAt(T0 + 1, 2);
        const c = notificationAt(T0 + 2, 3);
        expect(await store.append([entry('u1', 1, a), entry('u1', 2, b)])).toEqual([true, true]);
        expect(await store.append([entry('u1', 1, a), entry('u1', 2, b)])).toEqual([false, false]);
        expect(await store.append([entry('u1', 2, b), entry('u1', 3, c), entry('u1', 1, a)])).toEqual([false, true, false]);
        expect((await store.list('u1', { limit: 10 })).notifications.map((n) => n.id)).toEqual([a.id, b.id, c.id]);
      });

      it('the same notification twice in one batch is stored once (true, false)', async () => {
        const a = notificationAt(T0);
        expect(await store.append([entry('u1', 1, a), entry('u1', 2, a)])).toEqual([true, false]);
        expect((await store.list('u1', { limit: 10 })).notifications).toHaveLength(1);
      });

      it('a replay keeps the first copy (its seq and content)', async () => {
        const a = notificationAt(T0, 0, { message: 'first' });
        await store.append([entry('u1', 5, a)]);
        await store.append([entry('u1', 9, { ...a, message: 'second' })]);
        const { entries } = await store.readAfter('u1', uuidV7At(T0 - 1), 10);
        expect(entries).toEqual([{ user_id: 'u1', seq: 5, notification: a }]);
      });

      it('one notification for many users is one new entry per user', async () => {
        const a = notificationAt(T0);
        expect(await store.append(['u1', 'u2', 'u3'].map((u, i) => entry(u, i, a)))).toEqual([true, true, true]);
      });

      it('an empty batch returns []', async () => {
        expect(await store.append([])).toEqual([]);
      });

      it('messages round-trip exactly: strings stay strings, objects stay objects', async () => {
        const messages: Notification['message'][] = [
          'plain text',
          '',
          '{"looks":"like json"}',
          '"quoted"',
          '42',
          'null',
          'ünïcödé ✓ 🚀 line\nbreak',
          { text: 'hello', n: 1, nested: { list: [1, 'two', null, true] } },
          {},
        ];
        const notes = messages.map((message, i) => notificationAt(T0 + i, 0, { message }));
        await store.append(notes.map((n, i) => entry('u1', i, n)));
        const got = (await store.list('u1', { limit: 100 })).notifications;
        expect(got).toEqual(notes);
        for (const [i, n] of got.entries()) expect(typeof n.message).toBe(typeof messages[i]);
      });

      it('published_at comes back as the same text; topic_id and id as strings', async () => {
        const n = notificationAt(T0 + 123, 0, { topic_id: '007', published_at: new Date(T0 + 123).toISOString() });
        await store.append([entry('1e3', 1, n)]);
        const [got] = (await store.list('1e3', { limit: 1 })).notifications;
        expect(got).toEqual(n);
        expect(got?.published_at).toBe('2026-01-01T00:00:00.123Z');
        expect(got?.topic_id).toBe('007');
      });
    });

    describe('list', () => {
      it('oldest first by (published_at, id), whatever the append order', async () => {
        const notes = [
          notificationAt(T0 + 2, 1),
          notificationAt(T0, 5),
          notificationAt(T0, 1),
          notificationAt(T0 + 1, 9),
          notificationAt(T0 + 1, 0),
        ];
        await store.append(shuffled(notes).map((n, i) => entry('u1', i, n)));
        const ids = (await store.list('u1', { limit: 10 })).notifications.map((n) => n.id);
        expect(ids).toEqual([uuidV7At(T0, 1), uuidV7At(T0, 5), uuidV7At(T0 + 1, 0), uuidV7At(T0 + 1, 9), uuidV7At(T0 + 2, 1)]);
      });

      it('orders by published_at even when it disagrees with the id timestamp', async () => {
        const early = notificationAt(T0 + 50, 0, { published_at: new Date(T0).toISOString() });
        const late = notificationAt(T0, 0, { published_at: new Date(T0 + 50).toISOString() });
        await store.append([entry('u1', 1, late), entry('u1', 2, early)]);
        expect((await store.list('u1', { limit: 10 })).notifications).toEqual([early, late]);
      });

      it('sinceMs is strictly after', async () => {
        await store.append([T0 - 1, T0, T0 + 1, T0 + 2].map((ms, i) => entry('u1', i, notificationAt(ms))));
        const got = (await store.list('u1', { limit: 10, sinceMs: T0 })).notifications.map((n) => n.published_at);
        expect(got).toEqual([new Date(T0 + 1).toISOString(), new Date(T0 + 2).toISOString()]);
      });

      it('empty inbox: no items, next_cursor null', async () => {
        expect(await store.list('nobody', { limit: 10 })).toEqual({ notifications: [], next_cursor: null });
      });

      it('next_cursor is null when the page holds the last item, even when the page is exactly full', async () => {
        await store.append([0, 1, 2].map((i) => entry('u1', i, notificationAt(T0 + i))));
        expect((await store.list('u1', { limit: 3 })).next_cursor).toBeNull();
        expect((await store.list('u1', { limit: 4 })).next_cursor).toBeNull();
        const first = await store.list('u1', { limit: 2 });
        expect(first.notifications).toHaveLength(2);
        expect(first.next_cursor).toEqual(expect.any(String));
        const second = await store.list('u1', { limit: 2, cursor: first.next_cursor ?? '' });
        expect(second.notifications.map((n) => n.published_at)).toEqual([new Date(T0 + 2).toISOString()]);
        expect(second.next_cursor).toBeNull();
      });

      it('limit 1 and limit 1000 work', async () => {
        await store.append(Array.from({ length: 1_001 }, (_, i) => entry('u1', i, notificationAt(T0 + i))));
        const one = await store.list('u1', { limit: 1 });
        expect(one.notifications).toHaveLength(1);
        const thousand = await store.list('u1', { limit: 1000 });
        expect(thousand.notifications).toHaveLength(1000);
        expect(thousand.next_cursor).not.toBeNull();
      });

      it('pages through 1,050 items with limit 100: each exactly once, in order, 11 pages', async () => {
        // 10 notifications per millisecond, so page boundaries fall inside runs of equal published_at.
        const notes = Array.from({ length: 1_050 }, (_, i) => notificationAt(T0 + Math.floor(i / 10), i % 10));
        for (let i = 0; i < notes.length; i += 200) {
          await store.append(shuffled(notes.slice(i, i + 200), i).map((n, k) => entry('u1', i + k, n)));
        }
        await store.append([entry('u2', 0, notificationAt(T0 + 3, 99))]);
        const pages = await allPages('u1', 100);
        expect(pages.map((p) => p.length)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
        const ids = pages.flat().map((n) => n.id);
        expect(new Set(ids).size).toBe(1_050);
        expect(ids).toEqual(notes.map((n) => n.id));
      });

      it('paging with sinceMs keeps the since bound on every page', async () => {
        await store.append(Array.from({ length: 30 }, (_, i) => entry('u1', i, notificationAt(T0 + i))));
        const pages = await allPages('u1', 7, T0 + 9);
        expect(pages.flat().map((n) => n.published_at)).toEqual(Array.from({ length: 20 }, (_, i) => new Date(T0 + 10 + i).toISOString()));
      });

      it('items appended between pages: none twice, none skipped; newer ones come at the end', async () => {
        await store.append(Array.from({ length: 10 }, (_, i) => entry('u1', i, notificationAt(T0 + i * 10))));
        const first = await store.list('u1', { limit: 4 });
        // One item later than everything, one earlier than the cursor (already behind the reader).
        await store.append([entry('u1', 10, notificationAt(T0 + 1_000)), entry('u1', 11, notificationAt(T0 + 5))]);
        const seen = [...first.notifications];
        let cursor = first.next_cursor;
        while (cursor !== null) {
          const page = await store.list('u1', { limit: 4, cursor });
          seen.push(...page.notifications);
          cursor = page.next_cursor;
        }
        const ids = seen.map((n) => n.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(11);
        expect(ids.at(-1)).toBe(uuidV7At(T0 + 1_000));
        expect(ids).not.toContain(uuidV7At(T0 + 5));
      });

      it('rejects malformed cursors with HERALD_EDGE_CURSOR_INVALID', async () => {
        await store.append(Array.from({ length: 5 }, (_, i) => entry('u1', i, notificationAt(T0 + i))));
        const good = (await store.list('u1', { limit: 2 })).next_cursor ?? '';
        expect(good).not.toBe('');
        const flipped = good.slice(0, 5) + (good[5] === 'A' ? 'B' : 'A') + good.slice(6);
        const garbage = ['garbage', 'not a cursor!', '%%%', '====', good.slice(0, -3), flipped, `${good}x`, 'eyJhIjoxfQ', 'AAAA', 'x'.repeat(5_000)];
        for (const cursor of garbage) {
          await expect(store.list('u1', { limit: 2, cursor }), cursor).rejects.toMatchObject({ code: 'HERALD_EDGE_CURSOR_INVALID' });
        }
        expect((await store.list('u1', { limit: 2, cursor: good })).notifications).toHaveLength(2);
      });
    });

    describe('readAfter (SSE resume)', () => {
      /** u1 has 6 entries whose seq order differs from their id / published_at order. */
      const setup = async (): Promise<Notification[]> => {
        const notes = [0, 1, 2, 3, 4, 5].map((i) => notificationAt(T0 + i * 100, i));
        // Delivery (seq) order: n2, n0, n1, n5, n3, n4
        const order = [2, 0, 1, 5, 3, 4];
        await store.append(order.map((k, pos) => entry('u1', 100 + pos * 3, notes[k] as Notification)));
        return notes;
      };

      it('resumes exactly after the last event id, in seq order, not id order', async () => {
        const n = await setup();
        const after0 = await store.readAfter('u1', n[0]?.id ?? '', 100);
        expect(after0.found).toBe(true);
        expect(idsOf(after0.entries)).toEqual([n[1], n[5], n[3], n[4]].map((x) => x?.id));
        expect(after0.entries.map((e) => e.seq)).toEqual([106, 109, 112, 115]);
        expect(after0.entries.every((e) => e.user_id === 'u1')).toBe(true);
        const after5 = await store.readAfter('u1', n[5]?.id ?? '', 100);
        expect(idsOf(after5.entries)).toEqual([n[3], n[4]].map((x) => x?.id));
      });

      it('after the last delivered id: found, nothing to send', async () => {
        const n = await setup();
        expect(await store.readAfter('u1', n[4]?.id ?? '', 100)).toEqual({ found: true, entries: [] });
      });

      it('returns whole entries (user_id, seq, notification)', async () => {
        const n = await setup();
        const { entries } = await store.readAfter('u1', n[3]?.id ?? '', 100);
        expect(entries).toEqual([{ user_id: 'u1', seq: 115, notification: n[4] }]);
      });

      it('limit and afterSeq page through a backlog exactly once', async () => {
        const notes = Array.from({ length: 250 }, (_, i) => notificationAt(T0 + i, 0));
        await store.append(notes.map((n, i) => entry('u1', i * 2, n)));
        const start = notes[0]?.id ?? '';
        const got: string[] = [];
        let afterSeq: number | undefined;
        for (;;) {
          const page = await store.readAfter('u1', start, 40, afterSeq);
          expect(page.found).toBe(true);
          expect(page.entries.length).toBeLessThanOrEqual(40);
          if (page.entries.length === 0) break;
          got.push(...idsOf(page.entries));
          afterSeq = page.entries.at(-1)?.seq;
        }
        expect(got).toEqual(notes.slice(1).map((n) => n.id));
      });

      it('unknown id: found=false, falls back to entries published at or after its UUIDv7 time, in seq order', async () => {
        const n = await setup();
        // Never delivered: same millisecond as n3, higher id bits.
        const unknown = uuidV7At(T0 + 300, 77);
        const r = await store.readAfter('u1', unknown, 100);
        expect(r.found).toBe(false);
        // published at or after T0+300: n5, n3, n4 in seq order.
        expect(idsOf(r.entries)).toEqual([n[5], n[3], n[4]].map((x) => x?.id));
      });

      it('unknown id fallback pages with afterSeq too', async () => {
        const n = await setup();
        const unknown = uuidV7At(T0 + 150);
        const first = await store.readAfter('u1', unknown, 2);
        expect(first.found).toBe(false);
        expect(idsOf(first.entries)).toEqual([n[2], n[5]].map((x) => x?.id));
        const second = await store.readAfter('u1', unknown, 2, first.entries.at(-1)?.seq);
        expect(second.found).toBe(false);
        expect(idsOf(second.entries)).toEqual([n[3], n[4]].map((x) => x?.id));
      });

      it('an id from the future falls back to nothing', async () => {
        await setup();
        expect(await store.readAfter('u1', uuidV7At(T0 + 10_000_000), 100)).toEqual({ found: false, entries: [] });
      });

      it('a lastEventId that is not a UUIDv7 falls back to the whole retained inbox (from time 0)', async () => {
        const n = await setup();
        for (const bad of ['garbage', '', '12345', '00000000-0000-4000-8000-000000000000']) {
          const r = await store.readAfter('u1', bad, 100);
          expect(r.found, bad).toBe(false);
          expect(idsOf(r.entries), bad).toEqual([n[2], n[0], n[1], n[5], n[3], n[4]].map((x) => x?.id));
        }
      });

      it("another user's id is unknown for this user (isolation)", async () => {
        const n = await setup();
        const mine = notificationAt(T0 + 1, 500);
        await store.append([entry('u2', 1, mine)]);
        const r = await store.readAfter('u2', n[0]?.id ?? '', 100);
        expect(r.found).toBe(false);
        expect(idsOf(r.entries)).toEqual([mine.id]);
        expect(r.entries.every((e) => e.user_id === 'u2')).toBe(true);
      });
    });

    describe('isolation between users', () => {
      it("list never returns another user's notifications, also with a cursor from another user", async () => {
        await store.append(Array.from({ length: 10 }, (_, i) => entry('alice', i, notificationAt(T0 + i, 1))));
        await store.append(Array.from({ length: 10 }, (_, i) => entry('bob', i, notificationAt(T0 + i, 2))));
        await store.append([entry('alice-2', 0, notificationAt(T0, 3))]);
        const alice = await allPages('alice', 3);
        expect(alice.flat().map((n) => n.id)).toEqual(Array.from({ length: 10 }, (_, i) => uuidV7At(T0 + i, 1)));
        const bobFirst = await store.list('bob', { limit: 3 });
        const crossed = await store.list('alice', { limit: 100, cursor: bobFirst.next_cursor ?? '' });
        expect(crossed.notifications.every((n) => n.id.endsWith('00000001'))).toBe(true);
        expect((await store.list('ALICE', { limit: 100 })).notifications).toEqual([]);
      });
    });

    describe('purge', () => {
      it('deletes notifications published before beforeMs (strictly), for every user, and counts them', async () => {
        await store.append([T0 - 2, T0 - 1, T0, T0 + 1].map((ms, i) => entry('u1', i, notificationAt(ms))));
        await store.append([T0 - 5, T0 + 5].map((ms, i) => entry('u2', i, notificationAt(ms))));
        expect(await store.purge(T0)).toBe(3);
        expect((await store.list('u1', { limit: 10 })).notifications.map((n) => n.published_at)).toEqual(
          [T0, T0 + 1].map((ms) => new Date(ms).toISOString()),
        );
        expect((await store.list('u2', { limit: 10 })).notifications).toHaveLength(1);
        expect(await store.purge(T0)).toBe(0);
      });

      it('purges a large backlog completely (more rows than any single chunk)', async () => {
        const batch = Array.from({ length: 5_000 }, (_, i) => entry(`u${i % 7}`, i, notificationAt(T0 - 10_000 + i)));
        await store.append(batch);
        await store.append([entry('u1', 99_999, notificationAt(T0 + 1))]);
        expect(await store.purge(T0)).toBe(5_000);
        expect((await store.list('u1', { limit: 10 })).notifications).toHaveLength(1);
      });

      it('a purged id makes readAfter fall back by time', async () => {
        const old = notificationAt(T0 - 100);
        const next = notificationAt(T0 + 100);
        await store.append([entry('u1', 1, old), entry('u1', 2, next)]);
        await store.purge(T0);
        const r = await store.readAfter('u1', old.id, 10);
        expect(r.found).toBe(false);
        expect(idsOf(r.entries)).toEqual([next.id]);
      });

      it('a purged notification can be stored again (append reports true)', async () => {
        const old = notificationAt(T0 - 100);
        await store.append([entry('u1', 1, old)]);
        await store.purge(T0);
        expect(await store.append([entry('u1', 1, old)])).toEqual([true]);
      });
    });
  });
}
