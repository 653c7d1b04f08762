import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from '../../../log/embedded/index.ts';
import type { FetchedBatch, TopicPartition } from '../../../log/types.ts';
import { removeTempDirs, tempDir, toText, waitFor } from './helpers.ts';

afterEach(removeTempDirs);

const tpKey = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

describe('embedded log: consumer groups', () => {
  it('re-delivers uncommitted records after a restart and keeps committed ones (at-least-once)', async () => {
    const dataDir = tempDir();
    const log = createEmbeddedTransport({ dataDir, retryBackoffMs: 5 });
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    await log.createProducer().send('t', Array.from({ length: 10 }, (_, i) => ({ key: null, value: String(i) })));
    const handed: number[] = [];
    const c = log.createConsumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 2 });
    await c.run(async (b) => {
      if (b.firstOffset >= 6) throw new Error('downstream unavailable');
      handed.push(b.firstOffset);
    });
    await waitFor(() => handed.length === 3);
    await new Promise((r) => setTimeout(r, 20));
    expect(await c.lag()).toEqual([{ topic: 't', partition: 0, committedOffset: 6, highWatermark: 10, lag: 4 }]);
    await log.close();

    const again = createEmbeddedTransport({ dataDir });
    const seen: number[] = [];
    const c2 = again.createConsumer({ groupId: 'g', topics: ['t'] });
    await c2.run(async (b) => {
      for (const r of b.records()) seen.push(r.offset);
    });
    await waitFor(() => seen.length === 4);
    expect(seen).toEqual([6, 7, 8, 9]);
    expect((await c2.lag())[0]).toMatchObject({ committedOffset: 10, highWatermark: 10, lag: 0 });
    await again.close();
  });

  it('persists commits within commitFlushMs without a close (crash after commit)', async () => {
    const dataDir = tempDir();
    const log = createEmbeddedTransport({ dataDir, commitFlushMs: 5 });
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    await log.createProducer().send('t', Array.from({ length: 5 }, (_, i) => ({ key: null, value: String(i) })));
    let n = 0;
    await log.createConsumer({ groupId: 'g', topics: ['t'] }).run(async (b) => void (n += b.count));
    await waitFor(() => n === 5);
    await new Promise((r) => setTimeout(r, 30));
    // A second transport reads what is on disk, as a restarted process would.
    const other = createEmbeddedTransport({ dataDir });
    const c = other.createConsumer({ groupId: 'g', topics: ['t'] });
    expect((await c.lag())[0]).toMatchObject({ committedOffset: 5, lag: 0 });
    await other.close();
    await log.close();
  });

  it('retries the same batch after a rejection, with backoff', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir(), retryBackoffMs: 10, retryBackoffMaxMs: 40 });
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    await log.createProducer().send('t', Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: String(i) })));
    const attempts: Array<{ first: number; last: number; values: string[]; at: number }> = [];
    const c = log.createConsumer({ groupId: 'g', topics: ['t'] });
    await c.run(async (b) => {
      attempts.push({ first: b.firstOffset, last: b.lastOffset, values: [...b.records()].map((r) => toText(r).value), at: performance.now() });
      if (attempts.length < 3) throw new Error('transient');
    });
    await waitFor(() => attempts.length === 3);
    expect(attempts.map((a) => [a.first, a.last])).toEqual([[0, 4], [0, 4], [0, 4]]);
    expect(attempts[2]!.values).toEqual(attempts[0]!.values);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(4); // >= 10/2 ms (jitter), minus timer slack
    await waitFor(() => true);
    expect((await c.lag())[0]!.committedOffset).toBe(5);
    await log.close();
  });

  it('splits partitions between two members and rebalances on close with nothing lost or handed twice', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 4 }]);
    const p = log.createProducer();
    const handed = new Map<string, number>(); // "partition/offset" → times handed to the group
    const events: string[] = [];
    const inFlight = new Set<string>();
    const make = (name: string) => {
      const c = log.createConsumer({
        groupId: 'g',
        topics: ['t'],
        maxBatchRecords: 7,
        onAssigned: (tps) => void events.push(`${name}+${tps.map(tpKey).join(',')}`),
        onRevoked: (tps) => {
          for (const tp of tps) expect(inFlight.has(`${name}:${tpKey(tp)}`)).toBe(false);
          events.push(`${name}-${tps.map(tpKey).join(',')}`);
        },
      });
      const handler = async (b: FetchedBatch): Promise<void> => {
        const key = `${name}:${b.topic}/${b.partition}`;
        inFlight.add(key);
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        for (const r of b.records()) {
          const k = `${r.partition}/${r.offset}`;
          handed.set(k, (handed.get(k) ?? 0) + 1);
        }
        inFlight.delete(key);
      };
      return { c, run: () => c.run(handler) };
    };
    const a = make('a');
    await a.run();
    expect(a.c.assignment()).toHaveLength(4);
    const producing = (async () => {
      for (let i = 0; i < 100; i++) {
        await p.send('t', Array.from({ length: 10 }, (_, j) => ({ key: `user-${i * 10 + j}`, value: String(i * 10 + j) })));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const b = make('b');
    await b.run();
    expect(a.c.assignment()).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    expect(b.c.assignment()).toEqual([{ topic: 't', partition: 2 }, { topic: 't', partition: 3 }]);
    await new Promise((r) => setTimeout(r, 30));
    await a.c.close();
    expect(b.c.assignment()).toHaveLength(4);
    await producing;
    await waitFor(() => handed.size === 1000, 10_000, 'all 1000 records');
    expect([...handed.values()].every((n) => n === 1)).toBe(true);
    expect(events).toEqual(['a+t/0,t/1,t/2,t/3', 'a-t/2,t/3', 'b+t/2,t/3', 'a-t/0,t/1', 'b+t/0,t/1']);
    const lag = await b.c.lag();
    expect(lag.reduce((n, l) => n + l.lag, 0)).toBe(0);
    expect(lag.reduce((n, l) => n + l.highWatermark, 0)).toBe(1000);
    await log.close();
  });

  it('round-robin assignment deals partitions in turn', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir(), assignment: 'round-robin' });
    await log.ensureTopics([{ name: 't', partitions: 5 }]);
    const a = log.createConsumer({ groupId: 'g', topics: ['t'] });
    const b = log.createConsumer({ groupId: 'g', topics: ['t'] });
    await a.run(async () => {});
    await b.run(async () => {});
    expect(a.assignment().map((t) => t.partition)).toEqual([0, 2, 4]);
    expect(b.assignment().map((t) => t.partition)).toEqual([1, 3]);
    await log.close();
    expect(a.assignment()).toEqual([]);
  });

  it('reports lag per partition and starts at the end with fromBeginning: false', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 2 }]);
    const p = log.createProducer();
    await p.send('t', [{ key: null, value: 'a', partition: 0 }, { key: null, value: 'b', partition: 0 }, { key: null, value: 'c', partition: 1 }]);
    const seen: string[] = [];
    const c = log.createConsumer({ groupId: 'late', topics: ['t'], fromBeginning: false });
    expect(await c.lag()).toEqual([
      { topic: 't', partition: 0, committedOffset: 0, highWatermark: 2, lag: 2 },
      { topic: 't', partition: 1, committedOffset: 0, highWatermark: 1, lag: 1 },
    ]);
    await c.run(async (b) => {
      for (const r of b.records()) seen.push(toText(r).value);
    });
    await p.send('t', [{ key: null, value: 'd', partition: 1 }]);
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(['d']);
    expect(await c.lag()).toEqual([
      { topic: 't', partition: 0, committedOffset: 0, highWatermark: 2, lag: 2 },
      { topic: 't', partition: 1, committedOffset: 2, highWatermark: 2, lag: 0 },
    ]);
    await log.close();
  });
});
