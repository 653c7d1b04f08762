import { afterEach, describe, expect, it } from 'vitest';
import { createKafkaTransport, type KafkaLogTransport } from '../../log/kafka/index.ts';
import { partitionFor } from '../../log/murmur2.ts';
import { RecordsEncoder } from '../../log/record-codec.ts';
import type { FetchedBatch, LogConsumer } from '../../log/types.ts';
import { kafkaBrokers, uniqueName } from '../helpers/services.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

function transport(): KafkaLogTransport {
  const t = createKafkaTransport({ brokers: kafkaBrokers(), sessionTimeoutMs: 6000 });
  open.push(t);
  return t;
}

async function waitFor(cond: () => boolean, ms = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('kafka transport on a real broker', () => {
  it('creates topics with the given partition counts and places keys with murmur2 like the embedded log', async () => {
    const t = transport();
    const topic = uniqueName('t-part');
    await t.ensureTopics([{ name: topic, partitions: 12 }]);
    expect(t.partitionCount(topic)).toBe(12);
    await t.ensureTopics([{ name: topic, partitions: 12 }]); // idempotent
    await expect(t.ensureTopics([{ name: topic, partitions: 6 }])).rejects.toMatchObject({ code: 'HERALD_CONFIG_INVALID' });
    const p = t.createProducer();
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const meta = await p.send(topic, keys.map((k) => ({ key: k, value: `v-${k}` })));
    for (let i = 0; i < keys.length; i++) expect(meta[i]!.partition).toBe(partitionFor(keys[i]!, 12));
    // per partition, offsets are consecutive in send order (idempotent producer keeps order)
    const byPartition = new Map<number, number[]>();
    for (const m of meta) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.offset]);
    for (const offsets of byPartition.values()) expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });

  it('hands every record once to a consumer group, in offset order per partition, and resumes from the committed offset', async () => {
    const t = transport();
    const topic = uniqueName('t-group');
    const groupId = uniqueName('g');
    await t.ensureTopics([{ name: topic, partitions: 3 }]);
    const enc = new RecordsEncoder();
    for (let i = 0; i < 300; i++) enc.add(`k${i % 7}`, `r${i}`);
    await t.createProducer().sendEncoded(topic, enc.finish());
    const seen: string[] = [];
    const last = new Map<number, number>();
    const c1: LogConsumer = t.createConsumer({ groupId, topics: [topic], maxBatchRecords: 50 });
    await c1.run(async (b: FetchedBatch) => {
      for (const r of b.records()) {
        expect(r.offset).toBeGreaterThan(last.get(b.partition) ?? -1);
        last.set(b.partition, r.offset);
        seen.push(Buffer.from(r.value).toString());
      }
    });
    await waitFor(() => seen.length >= 300, 30_000, '300 records');
    await c1.close();
    expect(new Set(seen).size).toBe(300);
    const lag = await (async () => {
      const c = t.createConsumer({ groupId, topics: [topic] });
      const l = await c.lag();
      await c.close();
      return l;
    })();
    expect(lag.reduce((s, l) => s + l.lag, 0)).toBe(0);
    // more records: a new member of the same group gets only those
    await t.createProducer().send(topic, [{ key: 'k1', value: 'after' }]);
    const again: string[] = [];
    const c2 = t.createConsumer({ groupId, topics: [topic] });
    await c2.run(async (b) => {
      for (const r of b.records()) again.push(Buffer.from(r.value).toString());
    });
    await waitFor(() => again.length >= 1, 30_000, 'the new record');
    await new Promise((r) => setTimeout(r, 500));
    expect(again).toEqual(['after']);
  });

  it('commits a batch output and its offsets in one transaction (exactlyOnce): outputs appear once, read_committed', async () => {
    const t = transport();
    const src = uniqueName('t-src');
    const dst = uniqueName('t-dst');
    await t.ensureTopics([{ name: src, partitions: 2 }, { name: dst, partitions: 2 }]);
    await t.createProducer().send(src, Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })));
    let failOnce = true;
    const copier = t.createConsumer({ groupId: uniqueName('copy'), topics: [src], exactlyOnce: true, maxBatchRecords: 20 });
    await copier.run(async (b, out) => {
      const enc = new RecordsEncoder();
      for (const r of b.records()) enc.add(r.key, r.value);
      await out.appendEncoded(dst, enc.finish());
      if (failOnce) {
        // The first attempt fails after appending: its records must never become visible.
        failOnce = false;
        throw new Error('injected failure after append');
      }
    });
    const got: string[] = [];
    const reader = t.createConsumer({ groupId: uniqueName('read'), topics: [dst] });
    await reader.run(async (b) => {
      for (const r of b.records()) got.push(Buffer.from(r.value).toString());
    });
    await waitFor(() => got.length >= 100, 60_000, '100 copied records');
    await new Promise((r) => setTimeout(r, 1000));
    expect(got.length).toBe(100);
    expect(new Set(got).size).toBe(100);
  });
});
