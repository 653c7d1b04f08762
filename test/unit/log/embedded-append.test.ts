import { afterEach, describe, expect, it } from 'vitest';
import { isHeraldError } from '../../../core/errors.ts';
import { createEmbeddedTransport } from '../../../log/embedded/index.ts';
import { flushRecords } from '../../../log/embedded/metrics.ts';
import { partitionFor } from '../../../log/murmur2.ts';
import { RecordCursor, RecordsEncoder } from '../../../log/record-codec.ts';
import type { FetchedBatch } from '../../../log/types.ts';
import { readAll, removeTempDirs, tempDir, waitFor } from './helpers.ts';

afterEach(removeTempDirs);

async function flushCount(): Promise<number> {
  const m = await flushRecords.get();
  return m.values.find((v) => v.metricName === 'herald_log_flush_records_count')?.value ?? 0;
}

describe('embedded log: append and read', () => {
  it('round-trips records, by murmur2 partition, with monotonic offsets per partition', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 4 }]);
    expect(log.partitionCount('t')).toBe(4);
    const p = log.createProducer();
    const records = Array.from({ length: 200 }, (_, i) => ({ key: `user-${i % 23}`, value: `value-${i}` }));
    const meta = await p.send('t', records);
    expect(meta).toHaveLength(200);
    const last = new Map<number, number>();
    meta.forEach((m, i) => {
      expect(m.topic).toBe('t');
      expect(m.partition).toBe(partitionFor(records[i]!.key, 4));
      expect(m.offset).toBe((last.get(m.partition) ?? -1) + 1);
      last.set(m.partition, m.offset);
    });
    const read = await readAll(log, 't', 200);
    const byValue = new Map(read.map((r) => [r.value, r]));
    meta.forEach((m, i) => {
      const r = byValue.get(`value-${i}`)!;
      expect(r).toMatchObject({ partition: m.partition, offset: m.offset, key: records[i]!.key });
      expect(r.timestamp).toBeGreaterThan(Date.now() - 60_000);
    });
    await log.close();
  });

  it('keeps keys and values intact when one flush grows the write buffer many times', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const big = (i: number): string => `${i}:`.padEnd(3000 + i, 'é');
    await log.createProducer().send('t', Array.from({ length: 100 }, (_, i) => ({ key: `key-${i}-${'k'.repeat(i * 7)}`, value: big(i) })));
    const read = await readAll(log, 't', 100);
    read.forEach((r, i) => {
      expect(r.key).toBe(`key-${i}-${'k'.repeat(i * 7)}`);
      expect(r.value).toBe(big(i));
    });
    await log.close();
  });

  it('hands batches whose encoded bytes own their ArrayBuffer, in the codec framing', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    await log.createProducer().send('t', Array.from({ length: 50 }, (_, i) => ({ key: null, value: `v${i}`, timestamp: 1_700_000_000_000 + i })));
    const batches: FetchedBatch[] = [];
    const c = log.createConsumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 20 });
    await c.run(async (b) => void batches.push(b));
    await waitFor(() => batches.reduce((n, b) => n + b.count, 0) === 50);
    expect(batches.map((b) => [b.firstOffset, b.lastOffset, b.count])).toEqual([[0, 19, 20], [20, 39, 20], [40, 49, 10]]);
    for (const b of batches) {
      expect(b.encoded.byteOffset).toBe(0);
      expect(b.encoded.buffer.byteLength).toBe(b.encoded.byteLength);
      expect(b.highWatermark).toBe(50);
      const cur = new RecordCursor(b.encoded);
      let off = b.firstOffset;
      while (cur.next()) {
        expect(cur.offset).toBe(off);
        expect(cur.timestamp).toBe(1_700_000_000_000 + off);
        expect(cur.computeCrc()).toBe(cur.crc);
        off++;
      }
      const copy = structuredClone(b.encoded, { transfer: [b.encoded.buffer as ArrayBuffer] });
      expect(copy.byteLength).toBeGreaterThan(0);
    }
    await log.close();
  });

  it('keeps per-key order across many concurrent sends', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 3 }]);
    const p = log.createProducer();
    const sends = [];
    for (let i = 0; i < 300; i++) sends.push(p.send('t', [{ key: `k${i % 7}`, value: String(i) }]));
    await Promise.all(sends);
    const read = await readAll(log, 't', 300);
    const lastSeen = new Map<string, number>();
    for (const r of read) {
      const v = Number(r.value);
      expect(v).toBeGreaterThan(lastSeen.get(r.key!) ?? -1);
      lastSeen.set(r.key!, v);
    }
    await log.close();
  });

  it('group-commits the sends of one event-loop turn into one flush', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 2 }]);
    const p1 = log.createProducer();
    const p2 = log.createProducer();
    const before = await flushCount();
    const metas = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? p1 : p2).send('t', [{ key: null, value: String(i) }])));
    expect((await flushCount()) - before).toBe(1);
    expect(metas.map((m) => m[0]!.offset)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await log.close();
  });

  it('sendEncoded appends framed entries by key or explicit partition without changing the caller buffer', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 5 }]);
    // Big enough never to grow: RecordsEncoder growth drops the key of the entry being added (reported).
    const enc = new RecordsEncoder(1 << 20);
    for (let i = 0; i < 40; i++) enc.add(`key-${i}`, `val-${i}`, i % 10 === 0 ? 4 : -1, i === 1 ? 1_600_000_000_000 : 0);
    enc.add(null, 'nullkey');
    const buf = enc.finish();
    const copy = buf.slice();
    await log.createProducer().sendEncoded('t', buf);
    expect(buf).toEqual(copy);
    const read = await readAll(log, 't', 41);
    for (const r of read) {
      if (r.key === null) expect(r.partition).toBe(0);
      else {
        const i = Number(r.key.slice(4));
        expect(r.partition).toBe(i % 10 === 0 ? 4 : partitionFor(r.key, 5));
        expect(r.timestamp === 1_600_000_000_000).toBe(i === 1);
      }
    }
    await log.close();
  });

  it('rejects bad input and unknown topics with stable codes', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 2 }]);
    const p = log.createProducer();
    await expect(p.send('nope', [{ key: null, value: 'x' }])).rejects.toMatchObject({ code: 'HERALD_LOG_TOPIC_UNKNOWN' });
    await expect(p.send('t', [{ key: null, value: 'x', partition: 2 }])).rejects.toMatchObject({ code: 'HERALD_LOG_APPEND_FAILED' });
    await expect(p.sendEncoded('t', new Uint8Array(10))).rejects.toMatchObject({ code: 'HERALD_LOG_APPEND_FAILED' });
    expect(() => log.partitionCount('nope')).toThrow(expect.objectContaining({ code: 'HERALD_LOG_TOPIC_UNKNOWN' }));
    await expect(log.ensureTopics([{ name: '../evil', partitions: 1 }])).rejects.toMatchObject({ code: 'HERALD_CONFIG_INVALID' });
    expect(() => createEmbeddedTransport({ dataDir: tempDir(), segmentBytes: 10 })).toThrow(/segmentBytes/);
    expect(() => createEmbeddedTransport(JSON.parse(`{"dataDir":"${tempDir()}","__proto__":{"fsync":"batch"}}`))).toThrow(
      expect.objectContaining({ code: 'HERALD_CONFIG_INVALID' }),
    );
    expect(await p.send('t', [])).toEqual([]);
    await log.close();
  });

  it('rejects every operation after close with HERALD_LOG_CLOSED; close is idempotent', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const p = log.createProducer();
    const c = log.createConsumer({ groupId: 'g', topics: ['t'] });
    await c.run(async () => {});
    await p.close();
    await p.close();
    await expect(p.send('t', [{ key: null, value: 'x' }])).rejects.toMatchObject({ code: 'HERALD_LOG_CLOSED' });
    await Promise.all([log.close(), log.close()]);
    await c.close();
    await expect(c.run(async () => {})).rejects.toMatchObject({ code: 'HERALD_LOG_CLOSED' });
    expect(() => log.createProducer()).toThrow(expect.objectContaining({ code: "HERALD_LOG_CLOSED" }));
    expect(isHeraldError(await c.lag().catch((e: unknown) => e), "HERALD_LOG_CLOSED")).toBe(true);
  });

  it('wakes a caught-up consumer within milliseconds of an append', async () => {
    const log = createEmbeddedTransport({ dataDir: tempDir() });
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const p = log.createProducer();
    const latencies: number[] = [];
    let sentAt = 0;
    const c = log.createConsumer({ groupId: 'g', topics: ['t'] });
    await c.run(async () => void latencies.push(performance.now() - sentAt));
    for (let i = 0; i < 50; i++) {
      sentAt = performance.now();
      await p.send('t', [{ key: null, value: String(i) }]);
      await waitFor(() => latencies.length === i + 1);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[25]).toBeLessThan(5); // ms, median; typically well under 1 ms
    await log.close();
  });
});
