/**
 * A partition with thousands of segments does not hold a file descriptor per segment: idle
 * segments are closed and reopened on demand, and every record stays readable.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from '../../../log/embedded/index.ts';
import { MAX_OPEN_SEGMENTS } from '../../../log/embedded/segment.ts';
import type { FetchedBatch } from '../../../log/types.ts';

const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('embedded log: open segment files', () => {
  it('keeps at most MAX_OPEN_SEGMENTS open while 2,000 segments are written and read back', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-fds-'));
    const before = openFds();
    const transport = createEmbeddedTransport({ dataDir, segmentBytes: 1024 });
    await transport.ensureTopics([{ name: 't', partitions: 1 }]);
    const producer = transport.createProducer();
    const value = 'x'.repeat(900); // one record per 1 KiB segment
    // Segments roll between flushes: one record per flush fills one segment each.
    for (let i = 0; i < 2_000; i++) await producer.send('t', [{ key: 'k', value: `${i}:${value}` }]);
    expect(fs.readdirSync(path.join(dataDir, 'log', 't', '0')).filter((f) => f.endsWith('.log')).length).toBeGreaterThanOrEqual(2_000);
    expect(openFds() - before).toBeLessThanOrEqual(MAX_OPEN_SEGMENTS + 16);

    const seen: number[] = [];
    const consumer = transport.createConsumer({ groupId: 'g', topics: ['t'] });
    await consumer.run(async (batch: FetchedBatch) => {
      for (const r of batch.records()) seen.push(Number(new TextDecoder().decode(r.value).split(':')[0]));
    });
    const deadline = Date.now() + 20_000;
    while (seen.length < 2_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    expect(openFds() - before).toBeLessThanOrEqual(MAX_OPEN_SEGMENTS + 16);
    await consumer.close();
    await transport.close();
  });
});
