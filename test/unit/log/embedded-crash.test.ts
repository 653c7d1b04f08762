import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from '../../../log/embedded/index.ts';
import { readAll, removeTempDirs, tempDir } from './helpers.ts';

afterEach(removeTempDirs);

const ACKS_BEFORE_KILL = 20_000;
const KILL_AFTER_MS = 20_000;
const MIN_ACKS = 500;

const child = fileURLToPath(new URL('./fixtures/append-loop.ts', import.meta.url));

describe('embedded log: kill -9', () => {
  it('keeps every acknowledged record readable and uncorrupted after SIGKILL of the writer', async () => {
    const dataDir = tempDir();
    const proc = spawn(process.execPath, [child, dataDir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HERALD_LOG_LEVEL: 'silent' } });
    const acked = new Map<string, string>(); // "partition/offset" → value tag
    let buffered = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
    // Kill after ACKS_BEFORE_KILL acks or KILL_AFTER_MS, whichever comes first: slow CI disks must
    // not turn this into a timeout, and the kill must land while appends are in flight either way.
    let timer: NodeJS.Timeout | undefined;
    try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => (acked.size >= MIN_ACKS ? resolve() : reject(new Error(`only ${acked.size} acks after ${KILL_AFTER_MS} ms`))), KILL_AFTER_MS);
      proc.on('error', reject);
      proc.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const m = /^ack (\d+) (\d+) (v\d+)$/.exec(line);
          if (m) acked.set(`${m[1]}/${m[2]}`, m[3]!);
        }
        if (acked.size >= ACKS_BEFORE_KILL) resolve();
      });
      proc.on('exit', () => reject(new Error(`child exited early after ${acked.size} acks`)));
    });
    } finally {
      clearTimeout(timer);
      proc.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const log = createEmbeddedTransport({ dataDir, segmentBytes: 64 * 1024 }); // throws if corrupt
    let total = 0;
    for (let p = 0; p < 4; p++) total += log.offsets('crash', p).endOffset;
    expect(total).toBeGreaterThanOrEqual(acked.size);
    const read = await readAll(log, 'crash', total);
    const onDisk = new Map(read.map((r) => [`${r.partition}/${r.offset}`, r.value.split('-')[0]]));
    for (const [where, tag] of acked) expect(onDisk.get(where), where).toBe(tag);
    await log.close();
  }, 60_000);
});
