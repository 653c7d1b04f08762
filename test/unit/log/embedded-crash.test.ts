import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from '../../../log/embedded/index.ts';
import { readAll, removeTempDirs, tempDir } from './helpers.ts';

afterEach(removeTempDirs);

const child = fileURLToPath(new URL('./fixtures/append-loop.ts', import.meta.url));

describe('embedded log: kill -9', () => {
  it('keeps every acknowledged record readable and uncorrupted after SIGKILL of the writer', async () => {
    const dataDir = tempDir();
    const proc = spawn(process.execPath, [child, dataDir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HERALD_LOG_LEVEL: 'silent' } });
    const acked = new Map<string, string>(); // "partition/offset" → value tag
    let buffered = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      proc.on('error', reject);
      proc.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const m = /^ack (\d+) (\d+) (v\d+)$/.exec(line);
          if (m) acked.set(`${m[1]}/${m[2]}`, m[3]!);
        }
        if (acked.size >= 20_000) resolve();
      });
      proc.on('exit', () => reject(new Error(`child exited early after ${acked.size} acks`)));
    });
    proc.kill('SIGKILL');
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
