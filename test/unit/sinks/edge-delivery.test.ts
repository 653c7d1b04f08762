/**
 * The edge stage's sink and its inbox writers: new records are stored once and streamed once,
 * replays are neither stored nor streamed again, undecodable records come back for the DLQ, and
 * the threaded writer's group commit answers every concurrent batch with its own outcome.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordsEncoder } from '../../../log/record-codec.ts';
import type { FetchedBatch } from '../../../log/types.ts';
import { EdgeDeliverySink, createInProcessInboxWriter, createThreadedInboxWriter, type InboxWriter } from '../../../sinks/edge-delivery/index.ts';
import { RECORD_INVALID, RECORD_REPLAY, RECORD_STORED } from '../../../sinks/edge-delivery/inbox-writer.ts';
import { openSqliteInboxStore } from '../../../stores/sqlite/index.ts';
import { tempDir } from '../../helpers/herald.ts';

const note = (n: number) => ({ id: `01a227ec-a92a-7${String(n).padStart(3, '0')}-8000-000000000000`, topic_id: 't', message: { n }, published_at: '2026-11-29T15:29:10.954Z' });

/** A user-log batch: [user, notification number or a raw bad value] at consecutive offsets. */
function batch(rows: [string | null, number | string][], firstOffset = 0): FetchedBatch {
  const enc = new RecordsEncoder();
  rows.forEach(([user, v], i) => enc.add(user, typeof v === 'number' ? JSON.stringify(note(v)) : v, 0, 1_000, firstOffset + i));
  const encoded = enc.finish();
  return { topic: 'herald.user', partition: 0, firstOffset, lastOffset: firstOffset + rows.length - 1, count: rows.length, highWatermark: firstOffset + rows.length, encoded, records: () => [] };
}

function liveRecorder(connected: string[]) {
  const delivered: { user: string; id: string; seq: number }[] = [];
  return {
    delivered,
    isConnected: (u: string) => connected.includes(u),
    deliver: (u: string, e: { seq: number; id: string; json: string }) => {
      expect(JSON.parse(e.json).id).toBe(e.id);
      delivered.push({ user: u, id: e.id, seq: e.seq });
    },
  };
}

describe('edge-delivery sink', () => {
  const writers: InboxWriter[] = [];
  afterEach(async () => {
    for (const w of writers.splice(0)) await w.close();
  });

  for (const kind of ['in-process', 'threaded'] as const) {
    it(`${kind}: stores and streams new records once, skips replays, returns undecodable ones`, async () => {
      const file = path.join(tempDir(), 'inbox.db');
      const inbox = await openSqliteInboxStore({ path: file });
      const writer = kind === 'threaded' ? createThreadedInboxWriter({ kind: 'sqlite', path: file, synchronous: 'OFF' }) : createInProcessInboxWriter(inbox);
      writers.push(writer);
      const live = liveRecorder(['ann']);
      const sink = new EdgeDeliverySink({ writers: [writer], live });

      const notADate = JSON.stringify({ ...note(4), published_at: 'not-a-date' });
      const bad = await sink.write(batch([['ann', 1], ['bob', 1], ['ann', 2], [null, 3], ['bob', '{not json'], ['bob', '{"id":"x"}'], ['bob', notADate]]));
      expect(bad.map((b) => [b.offset, b.key])).toEqual([[3, null], [4, 'bob'], [5, 'bob'], [6, 'bob']]);
      expect(bad[3]!.message).toContain('published_at');
      expect(live.delivered).toEqual([
        { user: 'ann', id: note(1).id, seq: 0 },
        { user: 'ann', id: note(2).id, seq: 2 },
      ]);
      // The same records again (a replay after a crash), at new offsets: nothing new.
      await sink.write(batch([['ann', 1], ['bob', 1], ['ann', 2]], 10));
      expect(live.delivered).toHaveLength(2);
      const page = await inbox.list('bob', { limit: 10 });
      expect(page.notifications.map((n) => n.id)).toEqual([note(1).id]);
      expect((await inbox.list('ann', { limit: 10 })).notifications).toHaveLength(2);
      await inbox.close();
    });
  }

  it('in-app mutes: a muted topic is neither stored nor streamed for that user, unless critical; the critical mark never reaches a stream', async () => {
    const file = path.join(tempDir(), 'inbox.db');
    const inbox = await openSqliteInboxStore({ path: file });
    const writer = createInProcessInboxWriter(inbox);
    writers.push(writer);
    const events: { user: string; json: string; seq: number }[] = [];
    const live = { isConnected: () => true, deliver: (user: string, e: { seq: number; id: string; json: string }) => void events.push({ user, json: e.json, seq: e.seq }) };
    const asked: string[][] = [];
    const prefs = new Map([['ann', { channels: { email: false }, topics: { promo: { in_app: false }, news: { in_app: true, email: false } } }]]);
    const sink = new EdgeDeliverySink({
      writers: [writer],
      live,
      preferencesOf: async (users) => {
        asked.push([...users]);
        return new Map(users.map((u) => [u, prefs.get(u) ?? { channels: {}, topics: {} }]));
      },
    });
    const on = (topic: string, n: number, critical = false) => {
      const json = JSON.stringify({ ...note(n), topic_id: topic });
      return critical ? `${json.slice(0, -1)},"critical":true}` : json;
    };
    const bad = await sink.write(batch([['ann', on('promo', 1)], ['bob', on('promo', 1)], ['ann', on('news', 2)], ['ann', on('promo', 3, true)], ['ann', '{broken'], ['ann', on('promo', 4)]], 20));
    // One preferences read for the batch's distinct users.
    expect(asked).toEqual([['ann', 'bob']]);
    // The undecodable record still comes back for the DLQ, with its own offset.
    expect(bad.map((b) => [b.offset, b.key])).toEqual([[24, 'ann']]);
    expect(events.map((e) => [e.user, JSON.parse(e.json).message.n, e.seq])).toEqual([
      ['bob', 1, 21],
      ['ann', 2, 22],
      ['ann', 3, 23],
    ]);
    expect(events.every((e) => !e.json.includes('critical'))).toBe(true);
    expect(JSON.parse(events[2]!.json)).toEqual({ ...note(3), topic_id: 'promo' });
    expect((await inbox.list('ann', { limit: 10 })).notifications.map((n) => (n.message as { n: number }).n)).toEqual([2, 3]);
    expect((await inbox.list('bob', { limit: 10 })).notifications.map((n) => (n.message as { n: number }).n)).toEqual([1]);
    // A batch whose users mute nothing is written as it is.
    await sink.write(batch([['bob', on('promo', 5)]], 30));
    expect(events.at(-1)).toMatchObject({ user: 'bob', seq: 30 });
    await inbox.close();
  });

  it('threaded: concurrent batches are group-committed and each gets its own outcome', async () => {
    const file = path.join(tempDir(), 'inbox.db');
    const writer = createThreadedInboxWriter({ kind: 'sqlite', path: file, synchronous: 'OFF' });
    writers.push(writer);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, p) => writer.write(batch([[`u${p}`, p], [`u${p}`, p], [null, p], [`u${p}`, 100 + p]]).encoded)),
    );
    for (const r of results) expect([...r.outcome]).toEqual([RECORD_STORED, RECORD_REPLAY, RECORD_INVALID, RECORD_STORED]);
    const again = await writer.write(batch([['u3', 3]]).encoded);
    expect([...again.outcome]).toEqual([RECORD_REPLAY]);
  });

  it('threaded: small batches are not held behind a big one waiting with them; waiting too long wins', async () => {
    const file = path.join(tempDir(), 'inbox.db');
    const writer = createThreadedInboxWriter({ kind: 'sqlite', path: file, synchronous: 'OFF' }, { maxWaitMs: 60_000 });
    writers.push(writer);
    await writer.write(batch([['warm-up', 1]]).encoded); // opens the store in the thread
    const big = (tag: string) => batch(Array.from({ length: 1500 }, (_, i): [string, number] => [`${tag}-${i}`, 1])).encoded;
    const order: string[] = [];
    const track = (name: string, p: Promise<unknown>) => p.then(() => order.push(name));
    const first = track('bigA', writer.write(big('a'))); // starts at once, alone
    const rest = [track('bigB', writer.write(big('b'))), ...Array.from({ length: 5 }, (_, i) => track(`small${i}`, writer.write(batch([[`s${i}`, 2]]).encoded)))];
    await Promise.all([first, ...rest]);
    expect(order[0]).toBe('bigA');
    expect(order.indexOf('bigB')).toBe(order.length - 1);

    // With no patience at all, the batch that came first goes first.
    const fifo = createThreadedInboxWriter({ kind: 'sqlite', path: path.join(tempDir(), 'inbox.db'), synchronous: 'OFF' }, { maxWaitMs: 0 });
    writers.push(fifo);
    await fifo.write(batch([['warm-up', 1]]).encoded);
    order.length = 0;
    const a = track('bigA', fifo.write(big('a')));
    await new Promise((r) => setTimeout(r, 1));
    await Promise.all([a, track('bigB', fifo.write(big('b'))), track('small', fifo.write(batch([['s', 2]]).encoded))]);
    expect(order).toEqual(['bigA', 'bigB', 'small']);
  });

  it('threaded: a store that cannot be opened rejects with a store error, and the writer recovers', async () => {
    const notADir = path.join(tempDir(), 'a-file');
    fs.writeFileSync(notADir, 'x');
    const writer = createThreadedInboxWriter({ kind: 'sqlite', path: path.join(notADir, 'inbox.db'), synchronous: 'OFF' });
    writers.push(writer);
    await expect(writer.write(batch([['u', 1]]).encoded)).rejects.toMatchObject({ code: expect.stringMatching(/^HERALD_STORE_(FAILED|REJECTED)$/) });
    await expect(writer.write(batch([['u', 1]]).encoded)).rejects.toMatchObject({ code: expect.stringMatching(/^HERALD_STORE_/) });
  });
});

describe('notificationIdOf', () => {
  it('reads the leading id without parsing, and parses anything else', async () => {
    const { notificationIdOf } = await import('../../../sinks/edge-delivery/index.ts');
    expect(notificationIdOf(JSON.stringify(note(7)))).toBe(note(7).id);
    expect(notificationIdOf('{"topic_id":"t","id":"abc","message":"x","published_at":"z"}')).toBe('abc');
    expect(notificationIdOf('{"id":"a\\"b","topic_id":"t"}')).toBe('a"b');
  });
});
