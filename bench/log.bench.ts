/**
 * Benchmark of the embedded log transport (run in its own process: `node bench/log.bench.ts`).
 *
 * Scenarios, each after a warm-up, on a fresh temporary data dir, 8 partitions, 1 KiB values
 * (random bytes), keys `user-<n>`:
 * - append via `send` (1000 records per call, awaited one after the other);
 * - append via `send`, 1000 concurrent one-record calls per event-loop turn (group commit);
 * - append via `sendEncoded` (1000 pre-framed records per call; framing not timed);
 * - consume everything through a consumer group (batches of up to 1000 records / 1 MiB);
 * - publish→handler latency of single-record sends to a caught-up consumer (p50/p99).
 * Prints records/s and MB/s (MB = 10^6 bytes of value payload), hardware and Node version, and
 * writes bench/results/log.json.
 *
 * Env: N (records per scenario, default 200000), FSYNC ('never' | 'batch').
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmbeddedTransport } from '../log/embedded/index.ts';
import { RecordsEncoder, type EncodedRecords } from '../log/record-codec.ts';
import type { LogTransport, ProduceRecord } from '../log/types.ts';

const N = Number(process.env.N ?? 200_000);
const FSYNC = (process.env.FSYNC ?? 'never') as 'never' | 'batch';
const PARTITIONS = 8;
const VALUE_BYTES = 1024;
const CALL = 1000;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const value = new Uint8Array(VALUE_BYTES);
for (let i = 0; i < VALUE_BYTES; i++) value[i] = (i * 2654435761) >>> 24;

interface Result {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
}

function result(records: number, ms: number): Result {
  const seconds = ms / 1000;
  return { records, seconds: +seconds.toFixed(3), recordsPerSecond: Math.round(records / seconds), mbPerSecond: +((records * VALUE_BYTES) / 1e6 / seconds).toFixed(1) };
}

function chunk(from: number, n: number): ProduceRecord[] {
  return Array.from({ length: n }, (_, i) => ({ key: `user-${from + i}`, value }));
}

async function appendSend(log: LogTransport, topic: string, n: number): Promise<Result> {
  const p = log.createProducer();
  const calls = Array.from({ length: Math.ceil(n / CALL) }, (_, c) => chunk(c * CALL, Math.min(CALL, n - c * CALL)));
  const t0 = performance.now();
  for (const records of calls) await p.send(topic, records);
  return result(n, performance.now() - t0);
}

async function appendConcurrent(log: LogTransport, topic: string, n: number): Promise<Result> {
  const p = log.createProducer();
  const t0 = performance.now();
  for (let done = 0; done < n; done += CALL) {
    const turn: Promise<unknown>[] = [];
    for (let i = 0; i < CALL && done + i < n; i++) turn.push(p.send(topic, [{ key: `user-${done + i}`, value }]));
    await Promise.all(turn);
  }
  return result(n, performance.now() - t0);
}

async function appendEncoded(log: LogTransport, topic: string, n: number): Promise<Result> {
  const p = log.createProducer();
  const buffers: EncodedRecords[] = [];
  for (let done = 0; done < n; done += CALL) {
    // Large enough never to grow (see the report on RecordsEncoder growth).
    const enc = new RecordsEncoder(CALL * (VALUE_BYTES + 64));
    for (let i = 0; i < CALL && done + i < n; i++) enc.add(`user-${done + i}`, value);
    buffers.push(enc.finish());
  }
  const t0 = performance.now();
  for (const b of buffers) await p.sendEncoded(topic, b);
  return result(n, performance.now() - t0);
}

async function consume(log: LogTransport, topic: string, groupId: string, n: number): Promise<Result> {
  let seen = 0;
  let bytes = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const c = log.createConsumer({ groupId, topics: [topic] });
  const t0 = performance.now();
  await c.run(async (b) => {
    bytes += b.encoded.byteLength;
    seen += b.count;
    if (seen >= n) done();
  });
  await finished;
  const ms = performance.now() - t0;
  await c.close();
  if (bytes < n * VALUE_BYTES) throw new Error('consumed fewer bytes than appended');
  return result(n, ms);
}

async function latency(log: LogTransport, topic: string, samples: number): Promise<{ p50Ms: number; p99Ms: number; maxMs: number }> {
  const p = log.createProducer();
  const out: number[] = [];
  let sentAt = 0;
  let got!: () => void;
  const c = log.createConsumer({ groupId: 'latency', topics: [topic], fromBeginning: false });
  await c.run(async () => {
    out.push(performance.now() - sentAt);
    got();
  });
  for (let i = 0; i < samples; i++) {
    const arrived = new Promise<void>((r) => (got = r));
    sentAt = performance.now();
    await p.send(topic, [{ key: `user-${i}`, value }]);
    await arrived;
  }
  await c.close();
  out.sort((a, b) => a - b);
  const q = (f: number): number => +out[Math.min(out.length - 1, Math.floor(f * out.length))]!.toFixed(3);
  return { p50Ms: q(0.5), p99Ms: q(0.99), maxMs: q(1) };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-log-bench-'));
  const log = createEmbeddedTransport({ dataDir, fsync: FSYNC });
  try {
    const topics = ['warm', 'send', 'concurrent', 'encoded', 'lat'].map((name) => ({ name, partitions: PARTITIONS }));
    await log.ensureTopics(topics);
    // Warm-up: every code path, a tenth of the work.
    const w = Math.max(10_000, Math.floor(N / 10));
    await appendSend(log, 'warm', w);
    await appendConcurrent(log, 'warm', w);
    await appendEncoded(log, 'warm', w);
    await consume(log, 'warm', 'warm', 3 * w);
    await latency(log, 'warm', 200);

    const send = await appendSend(log, 'send', N);
    const concurrent = await appendConcurrent(log, 'concurrent', N);
    const encoded = await appendEncoded(log, 'encoded', N);
    const consumeSend = await consume(log, 'send', 'bench', N);
    const lat = await latency(log, 'lat', 2000);

    const cpus = os.cpus();
    const report = {
      scenario: 'log',
      date: new Date().toISOString(),
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpu: { model: cpus[0]?.model ?? 'unknown', count: cpus.length },
      memoryBytes: os.totalmem(),
      loadAverage: os.loadavg().map((l) => +l.toFixed(2)), // other processes share the CPUs
      settings: { records: N, partitions: PARTITIONS, valueBytes: VALUE_BYTES, recordsPerCall: CALL, fsync: FSYNC },
      results: { appendSend: send, appendConcurrentSingleRecordSends: concurrent, appendSendEncoded: encoded, consume: consumeSend, publishToHandlerLatency: lat },
    };
    console.log(`Node ${process.version}, ${report.cpu.count} x ${report.cpu.model}, ${report.platform}`);
    console.log(`load average ${report.loadAverage.join(' ')}`);
    console.log(`${N} records of ${VALUE_BYTES} B, ${PARTITIONS} partitions, fsync=${FSYNC}`);
    const line = (name: string, r: Result): void =>
      console.log(`${name.padEnd(42)} ${r.recordsPerSecond.toLocaleString('en-US').padStart(10)} records/s ${String(r.mbPerSecond).padStart(7)} MB/s`);
    line('append send (1000/call)', send);
    line('append send (1000 concurrent 1-record calls)', concurrent);
    line('append sendEncoded (1000/call)', encoded);
    line('consume (consumer group)', consumeSend);
    console.log(`publish→handler latency: p50 ${lat.p50Ms} ms, p99 ${lat.p99Ms} ms, max ${lat.maxMs} ms`);
    const out = path.join(ROOT, 'bench/results/log.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${path.relative(ROOT, out)}`);
  } finally {
    await log.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
