/**
 * Test helpers for the embedded log: temporary data dirs, collecting consumers, waiting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchedBatch, LogRecord, LogTransport } from '../../../log/types.ts';

const dirs: string[] = [];

/** A fresh temporary directory under os.tmpdir(); removed by {@link removeTempDirs}. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'herald-log-test-'));
  dirs.push(d);
  return d;
}

/** Removes every directory made by {@link tempDir}. */
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

const dec = new TextDecoder();

/** A record with key and value decoded as UTF-8. */
export interface TextRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string;
}

/** Decodes one record's key and value as UTF-8. */
export function toText(r: LogRecord): TextRecord {
  return { partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key === null ? null : dec.decode(r.key), value: dec.decode(r.value) };
}

/** Polls `cond` every 2 ms until true, or throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let groupSeq = 0;

/** Reads every record of `topic` through a fresh consumer group, until `expected` records arrived. */
export async function readAll(log: LogTransport, topic: string, expected: number): Promise<TextRecord[]> {
  const out: TextRecord[] = [];
  const c = log.createConsumer({ groupId: `read-all-${++groupSeq}`, topics: [topic] });
  await c.run(async (b: FetchedBatch) => {
    for (const r of b.records()) out.push(toText(r));
  });
  await waitFor(() => out.length >= expected, 10_000, `${expected} records of ${topic}`);
  await c.close();
  return out;
}
