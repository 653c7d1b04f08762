import { appendFileSync, openSync, readdirSync, readSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from '../../../log/embedded/index.ts';
import { ENTRY_HEADER_BYTES } from '../../../log/record-codec.ts';
import { readAll, removeTempDirs, tempDir } from './helpers.ts';

afterEach(removeTempDirs);

function segmentFiles(dataDir: string, topic: string, partition: number): string[] {
  const dir = join(dataDir, 'log', topic, String(partition));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => join(dir, f));
}

async function seed(dataDir: string, n: number): Promise<void> {
  const log = createEmbeddedTransport({ dataDir });
  await log.ensureTopics([{ name: 't', partitions: 1 }]);
  await log.createProducer().send('t', Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `value-${i}` })));
  await log.close();
}

describe('embedded log: recovery', () => {
  it('reopens with the same records and continues the offsets', async () => {
    const dataDir = tempDir();
    await seed(dataDir, 10);
    const log = createEmbeddedTransport({ dataDir });
    expect(log.partitionCount('t')).toBe(1);
    expect(log.offsets('t', 0)).toEqual({ logStartOffset: 0, endOffset: 10 });
    const [m] = await log.createProducer().send('t', [{ key: null, value: 'next' }]);
    expect(m!.offset).toBe(10);
    const read = await readAll(log, 't', 11);
    expect(read.map((r) => r.value)).toEqual([...Array.from({ length: 10 }, (_, i) => `value-${i}`), 'next']);
    await log.close();
  });

  it('truncates a torn tail (a partial entry after a crash) and appends after it', async () => {
    const dataDir = tempDir();
    await seed(dataDir, 5);
    const [file] = segmentFiles(dataDir, 't', 0);
    const goodSize = statSync(file!).size;
    // A crash in the middle of a write: the first 20 bytes of a 60-byte entry.
    const torn = new Uint8Array(20);
    new DataView(torn.buffer).setUint32(0, 60, true);
    appendFileSync(file!, torn);
    const log = createEmbeddedTransport({ dataDir });
    expect(statSync(file!).size).toBe(goodSize);
    expect(log.offsets('t', 0).endOffset).toBe(5);
    await log.createProducer().send('t', [{ key: null, value: 'after' }]);
    const read = await readAll(log, 't', 6);
    expect(read.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(read[5]!.value).toBe('after');
    await log.close();
  });

  it('truncates a last entry whose CRC does not match and a zero-filled tail', async () => {
    const dataDir = tempDir();
    await seed(dataDir, 3);
    const [file] = segmentFiles(dataDir, 't', 0);
    const size = statSync(file!).size;
    const fd = openSync(file!, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    writeSync(fd, Buffer.from([b[0]! ^ 0xff]), 0, 1, size - 1); // last byte of the last entry
    closeSync(fd);
    appendFileSync(file!, new Uint8Array(4096)); // zeros, like unflushed pages after a power loss
    const log = createEmbeddedTransport({ dataDir });
    expect(log.offsets('t', 0).endOffset).toBe(2);
    await log.close();
  });

  it('throws HERALD_LOG_CORRUPT naming the file and byte when a middle entry fails its CRC', async () => {
    const dataDir = tempDir();
    await seed(dataDir, 5);
    const [file] = segmentFiles(dataDir, 't', 0);
    // Entries are equal-sized here: find the second entry's position from the first's size field.
    const fd = openSync(file!, 'r+');
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    const second = head.readUInt32LE(0);
    writeSync(fd, Buffer.from('X'), 0, 1, second + ENTRY_HEADER_BYTES + 1); // inside the key of entry 1
    closeSync(fd);
    let caught: unknown;
    try {
      createEmbeddedTransport({ dataDir });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'HERALD_LOG_CORRUPT', details: { file, position: second } });
    expect((caught as Error).message).toContain(file!);
    expect((caught as Error).message).toContain(`byte ${second}`);
  });

  it('rolls segments at segmentBytes and reads across them after a restart', async () => {
    const dataDir = tempDir();
    const log = createEmbeddedTransport({ dataDir, segmentBytes: 1024 });
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const p = log.createProducer();
    for (let i = 0; i < 40; i++) await p.send('t', [{ key: null, value: `${i}-${'x'.repeat(100)}` }]);
    await log.close();
    expect(segmentFiles(dataDir, 't', 0).length).toBeGreaterThan(3);
    const again = createEmbeddedTransport({ dataDir, segmentBytes: 1024 });
    const read = await readAll(again, 't', 40);
    expect(read.map((r) => r.offset)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await again.close();
  });

  it('deletes segments older than retention on demand and on roll, never the active one', async () => {
    const dataDir = tempDir();
    const log = createEmbeddedTransport({ dataDir, segmentBytes: 1024 });
    await log.ensureTopics([{ name: 't', partitions: 1, retentionMs: 60_000 }]);
    const p = log.createProducer();
    for (let i = 0; i < 30; i++) await p.send('t', [{ key: null, value: 'n'.repeat(200) }]);
    const before = segmentFiles(dataDir, 't', 0).length;
    expect(before).toBeGreaterThan(3);
    expect(log.deleteExpiredSegments()).toBe(0);
    // Two minutes later every segment but the active one has expired.
    expect(log.deleteExpiredSegments(Date.now() + 120_000)).toBe(before - 1);
    expect(segmentFiles(dataDir, 't', 0)).toHaveLength(1);
    const start = log.offsets('t', 0).logStartOffset;
    expect(start).toBeGreaterThan(0);
    const read = await readAll(log, 't', 30 - start);
    expect(read[0]!.offset).toBe(start);
    // Records stamped 10 minutes ago (a topic of only those): each roll deletes the expired
    // segments in front of the new active one (like Kafka, deletion stops at the first segment
    // that has not expired).
    await log.ensureTopics([{ name: 'r', partitions: 1, retentionMs: 60_000 }]);
    for (let i = 0; i < 20; i++) await p.send('r', [{ key: null, value: 'o'.repeat(200), timestamp: Date.now() - 600_000 }]);
    expect(segmentFiles(dataDir, 'r', 0).length).toBe(1);
    expect(log.offsets('r', 0).logStartOffset).toBeGreaterThan(0);
    expect(log.offsets('r', 0).endOffset).toBe(20);
    await log.close();
  });
});
