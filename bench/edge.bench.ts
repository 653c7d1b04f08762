/**
 * SSE connections per edge process (`npm run bench:edge -- [options]`).
 *
 * 1. Starts Herald on the kafka profile as two processes, `herald job` and `herald edge`, with an
 *    isolated topology (log topics and groups named `<run>.…`) and SQLite shared stores in a fresh
 *    directory (HERALD_SHARED_STORE_DIR): the edge process's RSS and CPU are the edge's alone
 *    (edge stage: inbox append on its two SQLite writer threads, then live SSE writes; the HTTP
 *    API). The fan-out runs in the job process. Without a reachable broker (or with --embedded)
 *    it falls back to one `herald start` process, and then says the CPU includes the job.
 * 2. Subscribes --connections users, `user-<i>` to `topic-<i mod T>`, T = ceil(N / --fanout).
 * 3. Forks --clients client processes (bench/lib/edge-client.ts); each opens its share of the N
 *    streams (GET /stream, raw node:http) from source addresses 127.0.0.1 … 127.0.0.<--addresses>
 *    round robin, --open-rate streams/s in all. Half the streams first, then the rest; after each
 *    half and --settle seconds, the edge's VmRSS (/proc/<pid>/status), JS heap and fds are read.
 *    RSS per connection = (RSS with N held − RSS before any) / N; the marginal cost is the second
 *    half's slope (less sensitive to one-off growth such as V8's young generation).
 * 4. With the N streams idle, the edge's CPU for --idle seconds (SSE pings every 15 s by default).
 * 5. Publishes at --rate per second for --warmup seconds (not measured), then for --duration
 *    seconds, round robin over the T topics (every publish fans out to --fanout users). By default
 *    the publishes are appended straight to the publish log by this process (Herald's own Kafka
 *    producer and record format), so the edge's CPU is delivery alone; `--publish http` posts them
 *    to the edge's POST /publish instead (its CPU then includes the publish API).
 *    Window = first measured publish → last measured event received. Edge CPU-seconds
 *    (utime + stime of /proc/<pid>/stat, all threads) over the window → deliveries per
 *    CPU-second; per-thread split from /proc/<pid>/task. publish → event latency from each
 *    message's `sent_at` against the client's clock; missing and duplicated events per user.
 * 6. Prints a summary with the goals (≤ 10 KiB of edge RSS per connection, ≥ 50,000 deliveries
 *    per CPU-second of the edge) and how the figures scale to 100,000 connections, writes
 *    bench/results/<--out>.json, stops everything, deletes the run's topics and groups.
 *
 * The edge process inherits this shell's open-files limit (`ulimit -n`); N plus the edge's own
 * descriptors must stay below it (checked before any stream opens).
 *
 * Options: --connections N (env N, default 19000) --clients 8 --fanout 100 --rate 100
 * --duration 30 --warmup 5 --idle 15 --settle 5 --message-bytes 256 --open-rate 5000
 * --addresses 8 --publish log|http --embedded --cpu-prof (writes the edge's V8 CPU profiles to
 * a temporary directory, printed) --heap-snapshot (diagnosis: heap snapshots of the edge before
 * the streams and with all of them, diffed per connection; the snapshots grow the edge's RSS, so
 * that run's RSS figures are not the measurement) --brokers (HERALD_KAFKA_BROKERS,
 * 127.0.0.1:9092) --out edge.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isoMs, newNotificationId } from '../core/ids.ts';
import type { PublishRecord } from '../core/types.ts';
import type { LogProducer, LogTransport } from '../log/types.ts';
import { freePort } from '../test/helpers/herald.ts';
import { spawnHeraldRole, type HeraldRoleProcess } from '../test/helpers/herald-process.ts';
import { isolatedTopology } from '../test/helpers/services.ts';
import type { ClientCommand, ClientProgress, ClientReport, OpenCommand } from './lib/edge-client.ts';
import { deleteTopicsAndGroups, kafka } from './lib/kafka-ceiling.ts';
import { diffHeapSummaries, summarizeHeapSnapshot } from './lib/heap-summary.ts';
import { LatencyHistogram } from './lib/latency-histogram.ts';
import { brokerPid, CpuMeter, MachineCpuMeter, scrapeAll, sum, type Sample } from './lib/proc-metrics.ts';
import { cpuSplit, memoryMap, memoryStatus, openFds, openFilesLimit, threadCpu, threadCpuDelta } from './lib/proc-status.ts';
import { ProgressBar } from './lib/progress.ts';
import { printEnvironment, target, writeResult } from './lib/report.ts';
import { jsonPoster, pool } from './lib/http-client.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const { values: opts } = parseArgs({
  options: {
    connections: { type: 'string', default: process.env.N ?? '19000' },
    clients: { type: 'string', default: '8' },
    fanout: { type: 'string', default: '100' },
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    idle: { type: 'string', default: '15' },
    settle: { type: 'string', default: '5' },
    'message-bytes': { type: 'string', default: '256' },
    'open-rate': { type: 'string', default: '5000' },
    addresses: { type: 'string', default: '8' },
    publish: { type: 'string', default: 'log' },
    embedded: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'heap-snapshot': { type: 'boolean', default: false },
    brokers: { type: 'string', default: process.env.HERALD_KAFKA_BROKERS ?? '127.0.0.1:9092' },
    out: { type: 'string', default: 'edge' },
  },
});

const num = (name: keyof typeof opts, min = 0): number => {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < min) throw new Error(`--${name} must be a number ≥ ${min} (got ${String(opts[name])})`);
  return v;
};

const N = Math.floor(num('connections', 1));
const CLIENTS = Math.min(N, Math.floor(num('clients', 1)));
const FANOUT = Math.floor(num('fanout', 1));
const TOPICS = Math.ceil(N / FANOUT);
const RATE = num('rate', 0.1);
const DURATION = num('duration', 1);
const WARMUP = num('warmup');
const IDLE = num('idle');
const SETTLE = num('settle');
const MESSAGE_BYTES = Math.floor(num('message-bytes'));
const OPEN_RATE = num('open-rate', 1);
const ADDRESSES = Array.from({ length: Math.min(254, Math.max(1, Math.floor(num('addresses', 1)))) }, (_, i) => `127.0.0.${i + 1}`);
const BROKERS = opts.brokers!;
const RUN = `hbench-edge-${randomUUID().slice(0, 8)}`;
/** Descriptors the edge needs besides its streams (SQLite files, Kafka sockets, pipes), a margin. */
const FD_MARGIN = 200;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** ms since the epoch with sub-ms precision; the client processes read the same clock. */
const now = () => performance.timeOrigin + performance.now();
const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

if (opts.publish !== 'log' && opts.publish !== 'http') throw new Error(`--publish must be log or http (got ${opts.publish})`);

// ── the system under test ──────────────────────────────────────────────────────────────────

/** True when the Kafka client loads and the first broker accepts a TCP connection within 2 s. */
async function kafkaAvailable(): Promise<string | null> {
  try {
    kafka();
  } catch (err) {
    return `Kafka client not available (${(err as Error).message.split('\n')[0]})`;
  }
  const [host = '127.0.0.1', port = '9092'] = BROKERS.split(',')[0]!.split(':');
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    const done = (why: string | null) => {
      s.destroy();
      resolve(why);
    };
    s.setTimeout(2000, () => done(`broker ${BROKERS} did not answer in 2 s`));
    s.once('connect', () => done(null));
    s.once('error', (err) => done(`broker ${BROKERS}: ${err.message}`));
  });
}

interface Deployment {
  profile: 'kafka' | 'embedded';
  edge: HeraldRoleProcess;
  job: HeraldRoleProcess | null;
  /** Publish log topic (kafka profile). */
  publishLog: string | null;
  cpuProfDir: string | null;
  /** Where the edge writes heap snapshots on SIGUSR2 (--heap-snapshot). */
  heapDir: string | null;
  stop(): Promise<void>;
}

async function deploy(tmp: string, embedded: boolean): Promise<Deployment> {
  const logDir = path.join(tmp, 'logs');
  const cpuProfDir = opts['cpu-prof'] ? fs.mkdtempSync(path.join(os.tmpdir(), 'herald-edge-prof-')) : null;
  const heapDir = opts['heap-snapshot'] ? fs.mkdtempSync(path.join(os.tmpdir(), 'herald-edge-heap-')) : null;
  const nodeOptions = [...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), ...(heapDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] : [])];
  const edgeEnv: Record<string, string> = nodeOptions.length > 0 ? { NODE_OPTIONS: nodeOptions.join(' ') } : {};
  const procs: HeraldRoleProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop(30_000)));
  };
  try {
    if (embedded) {
      const edge = await spawnHeraldRole({
        name: 'herald',
        role: 'start',
        port: await freePort(),
        env: { HERALD_DATA_DIR: path.join(tmp, 'herald'), HERALD_LOG_LEVEL: 'warn', ...edgeEnv },
        logFile: path.join(logDir, 'herald.log'),
        onSpawned: (p) => procs.push(p),
      });
      return { profile: 'embedded', edge, job: null, publishLog: null, cpuProfDir, heapDir, stop };
    }
    const common: Record<string, string> = {
      HERALD_PROFILE: 'kafka',
      HERALD_KAFKA_BROKERS: BROKERS,
      HERALD_SHARED_STORE_DIR: path.join(tmp, 'shared'),
      HERALD_TOPOLOGY: isolatedTopology(tmp, RUN),
      HERALD_LOG_LEVEL: 'warn',
    };
    const [job, edge] = await Promise.all([
      spawnHeraldRole({ name: 'job', role: 'job', port: await freePort(), env: { ...common, HERALD_DATA_DIR: path.join(tmp, 'job') }, logFile: path.join(logDir, 'job.log'), onSpawned: (p) => procs.push(p) }),
      spawnHeraldRole({ name: 'edge', role: 'edge', port: await freePort(), env: { ...common, HERALD_DATA_DIR: path.join(tmp, 'edge'), ...edgeEnv }, logFile: path.join(logDir, 'edge.log'), onSpawned: (p) => procs.push(p) }),
    ]);
    // Every partition assigned: the job's two groups (fanout, fanout-pages) and the edge's.
    const deadline = Date.now() + 90_000;
    const assigned = async (url: string) => {
      const s = await scrapeAll(url);
      return sum(s, 'herald_log_rebalance_partitions_total', { kind: 'assigned' }) - sum(s, 'herald_log_rebalance_partitions_total', { kind: 'revoked' });
    };
    for (;;) {
      const [j, e] = await Promise.all([assigned(job.url), assigned(edge.url)]);
      if (j >= 24 && e >= 12) break;
      if (Date.now() > deadline) throw new Error(`partitions not assigned after 90 s: job ${j}/24, edge ${e}/12`);
      await sleep(250);
    }
    return { profile: 'kafka', edge, job, publishLog: `${RUN}.publish`, cpuProfDir, heapDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ── HTTP helpers ───────────────────────────────────────────────────────────────────────────

const { post } = jsonPoster(64);

// ── measurements of the edge process ───────────────────────────────────────────────────────

interface MemorySample {
  connections_held: number;
  edge_sse_connections: number;
  rss_kib: number;
  rss_anon_kib: number;
  heap_used_kib: number;
  heap_total_kib: number;
  external_kib: number;
  /** Committed size of each V8 heap space (new_space is the young generation, up to 3 × 64 MiB here). */
  heap_spaces_kib: Record<string, number>;
  /** RSS by mapping: brk (main malloc arena), anon (V8 pages, thread arenas), file, other. */
  rss_by_mapping_kib: ReturnType<typeof memoryMap>;
  open_fds: number | null;
  threads: number;
}

async function sampleMemory(edge: HeraldRoleProcess, held: number): Promise<MemorySample> {
  const pid = edge.child.pid!;
  const s = await scrapeAll(edge.url);
  const m = memoryStatus(pid);
  const kib = (name: string) => Math.round(sum(s, name) / 1024);
  return {
    connections_held: held,
    edge_sse_connections: sum(s, 'herald_sse_connections'),
    rss_kib: m?.rssKiB ?? Number.NaN,
    rss_anon_kib: m?.anonKiB ?? Number.NaN,
    heap_used_kib: kib('herald_nodejs_heap_size_used_bytes'),
    heap_total_kib: kib('herald_nodejs_heap_size_total_bytes'),
    external_kib: kib('herald_nodejs_external_memory_bytes'),
    heap_spaces_kib: Object.fromEntries(s.filter((x) => x.name === 'herald_nodejs_heap_space_size_total_bytes').map((x) => [x.labels.space ?? '?', Math.round(x.value / 1024)])),
    rss_by_mapping_kib: memoryMap(pid),
    open_fds: openFds(pid),
    threads: m?.threads ?? Number.NaN,
  };
}

/** Makes the edge write a heap snapshot (SIGUSR2; V8 collects garbage first) and summarises it. */
async function heapSnapshot(edge: HeraldRoleProcess, dir: string): Promise<ReturnType<typeof summarizeHeapSnapshot>> {
  const before = new Set(fs.readdirSync(dir));
  process.kill(edge.child.pid!, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  for (;;) {
    const fresh = fs.readdirSync(dir).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (fresh.length > 0) {
      // The edge writes it on its main thread: /healthz answers once it is done.
      await fetch(`${edge.url}/healthz`).then((r) => r.arrayBuffer());
      const file = path.join(dir, fresh[0]!);
      const summary = summarizeHeapSnapshot(file);
      fs.rmSync(file);
      return summary;
    }
    if (Date.now() > deadline) throw new Error('the edge wrote no heap snapshot in 120 s');
    await sleep(200);
  }
}

/** RSS growth between two samples per connection, KiB, split by where it lives. */
function growthPerConnection(a: MemorySample, b: MemorySample): Record<string, number> {
  const n = Math.max(1, b.connections_held - a.connections_held);
  const per = (v: number) => +(v / n).toFixed(2);
  const map = (x: MemorySample, k: 'brkKiB' | 'anonKiB' | 'fileKiB') => x.rss_by_mapping_kib?.[k] ?? 0;
  return {
    rss: per(b.rss_kib - a.rss_kib),
    main_malloc_arena: per(map(b, 'brkKiB') - map(a, 'brkKiB')),
    anonymous: per(map(b, 'anonKiB') - map(a, 'anonKiB')),
    js_heap_used: per(b.heap_used_kib - a.heap_used_kib),
    v8_old_space_committed: per((b.heap_spaces_kib.old ?? 0) - (a.heap_spaces_kib.old ?? 0)),
    v8_new_space_committed: per((b.heap_spaces_kib.new ?? 0) - (a.heap_spaces_kib.new ?? 0)),
  };
}

// ── clients ────────────────────────────────────────────────────────────────────────────────

class Clients {
  readonly procs: ChildProcess[] = [];
  readonly progress: ClientProgress[] = [];
  readonly #reports: ((r: ClientReport) => void)[][] = [];
  #closing = false;

  constructor(k: number) {
    for (let c = 0; c < k; c++) {
      const child = fork(path.join(HERE, 'lib/edge-client.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.procs.push(child);
      this.progress.push({ type: 'progress', held: 0, failed: 0, closed: 0, events: 0, measuredEvents: 0, lastMeasuredAt: 0 });
      this.#reports.push([]);
      child.on('message', (m: ClientProgress | ClientReport) => {
        if (m.type === 'progress') this.progress[c] = m;
        else this.#reports[c]!.shift()?.(m);
      });
      child.on('exit', (code, signal) => {
        if (!this.#closing) console.error(`client ${c} exited (${code ?? signal})`);
      });
    }
  }

  send(c: number, cmd: ClientCommand): void {
    this.procs[c]!.send(cmd);
  }

  total<K extends 'held' | 'failed' | 'closed' | 'events' | 'measuredEvents'>(key: K): number {
    return this.progress.reduce((a, p) => a + p[key], 0);
  }

  lastMeasuredAt(): number {
    return Math.max(0, ...this.progress.map((p) => p.lastMeasuredAt));
  }

  async reports(expectedByTopic: number[]): Promise<ClientReport[]> {
    return Promise.all(this.procs.map((_, c) => new Promise<ClientReport>((resolve) => {
      this.#reports[c]!.push(resolve);
      this.send(c, { type: 'report', expectedByTopic });
    })));
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.procs.map(async (p) => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      try {
        p.send({ type: 'close' });
      } catch {
        p.kill();
      }
      const t = setTimeout(() => p.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }));
  }
}

/** Opens `users` split over the clients (user i → client i mod K); waits until all are held or failed. */
async function openStreams(clients: Clients, base: string, users: number[], measureFrom: number, label: string): Promise<void> {
  const k = clients.procs.length;
  const tickMs = 100;
  const perTick = Math.max(1, Math.ceil((OPEN_RATE * tickMs) / 1000 / k));
  const before = clients.total('held') + clients.total('failed') + clients.total('closed');
  for (let c = 0; c < k; c++) {
    const mine = users.filter((u) => u % k === c);
    const cmd: OpenCommand = { type: 'open', base, users: mine, topics: TOPICS, addresses: ADDRESSES, perTick, tickMs, measureFrom };
    clients.send(c, cmd);
  }
  const bar = new ProgressBar(label, users.length);
  const deadline = Date.now() + 60_000 + (users.length / OPEN_RATE) * 3000;
  for (;;) {
    const done = clients.total('held') + clients.total('failed') + clients.total('closed') - before;
    bar.update(done, 'streams answered');
    if (done >= users.length) break;
    if (Date.now() > deadline) throw new Error(`${label}: only ${done} of ${users.length} streams answered in time (held ${clients.total('held')}, failed ${clients.total('failed')})`);
    await sleep(100);
  }
  bar.done();
}

// ── publishing ─────────────────────────────────────────────────────────────────────────────

interface Publisher {
  /** Publishes seqs (topic = seq mod T); resolves with which were accepted. */
  send(seqs: number[]): Promise<boolean[]>;
  close(): Promise<void>;
}

function messageOf(seq: number): Record<string, unknown> {
  const m: Record<string, unknown> = { seq, t: seq % TOPICS, sent_at: +now().toFixed(3) };
  // The Notification JSON (id, topic_id, published_at and this message) is about MESSAGE_BYTES.
  const pad = MESSAGE_BYTES - 150 - JSON.stringify(m).length;
  if (pad > 0) m.pad = 'x'.repeat(pad);
  return m;
}

async function logPublisher(publishLog: string): Promise<Publisher & { transport: LogTransport }> {
  const { createKafkaTransport } = await import('../log/kafka/index.ts');
  const transport = createKafkaTransport({ brokers: BROKERS, instanceId: `${RUN}-bench` });
  await transport.ensureTopics([{ name: publishLog, partitions: 12 }]);
  const producer: LogProducer = transport.createProducer();
  return {
    transport,
    async send(seqs) {
      const records = seqs.map((seq) => {
        const topic_id = `topic-${seq % TOPICS}`;
        const { id, publishedAtMs } = newNotificationId();
        const value: PublishRecord = { id, topic_id, published_at: isoMs(publishedAtMs), message: messageOf(seq), idempotency_key: null };
        return { key: topic_id, value: JSON.stringify(value) };
      });
      try {
        await producer.send(publishLog, records);
        return seqs.map(() => true);
      } catch (err) {
        console.error(`publish of ${seqs.length} failed: ${(err as Error).message}`);
        return seqs.map(() => false);
      }
    },
    async close() {
      await producer.close();
      await transport.close();
    },
  };
}

function httpPublisher(base: string): Publisher {
  return {
    send: (seqs) => Promise.all(seqs.map((seq) => post(base, '/publish', { topic_id: `topic-${seq % TOPICS}`, message: messageOf(seq) }).then(() => true, () => false))),
    close: async () => {},
  };
}

/** Publishes seqs from..from+count-1 at `rate`/s (batches every 10 ms); resolves with the accepted flags. */
async function publishAtRate(pub: Publisher, from: number, count: number, rate: number, bar?: ProgressBar): Promise<{ accepted: boolean[]; startedAt: number; seconds: number }> {
  const accepted: boolean[] = new Array(count).fill(false);
  const pending: Promise<void>[] = [];
  const startedAt = now();
  const t0 = performance.now();
  let issued = 0;
  while (issued < count) {
    const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    if (due > issued) {
      const seqs = Array.from({ length: due - issued }, (_, i) => from + issued + i);
      const base = issued;
      pending.push(pub.send(seqs).then((ok) => ok.forEach((a, i) => (accepted[base + i] = a))));
      issued = due;
      bar?.update(issued, 'publishes');
    }
    await sleep(10);
  }
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(pending);
  return { accepted, startedAt, seconds };
}

/** Users subscribed to topic t: i < N with i mod T = t. */
const subscribersOf = (t: number) => Math.floor((N - 1 - t) / TOPICS) + 1;

/** Measured events expected per topic and in all, from the accepted publishes. */
function expectedOf(from: number, accepted: boolean[]): { byTopic: number[]; total: number } {
  const byTopic = new Array<number>(TOPICS).fill(0);
  accepted.forEach((a, i) => a && byTopic[(from + i) % TOPICS]!++);
  return { byTopic, total: byTopic.reduce((a, c, t) => a + c * subscribersOf(t), 0) };
}

/** Waits until the clients received `expected` events counted by `key` (from `base`), or nothing moved for `stallMs`. */
async function drain(clients: Clients, key: 'events' | 'measuredEvents', base: number, expected: number, label: string, stallMs = 15_000): Promise<{ stalled: boolean }> {
  const bar = new ProgressBar(label, expected);
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const got = clients.total(key) - base;
    bar.update(got, 'events');
    if (got >= expected) break;
    if (got !== last) {
      last = got;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > stallMs) {
      bar.done();
      return { stalled: true };
    }
    await sleep(100);
  }
  bar.done();
  return { stalled: false };
}

function delta(a: Sample[], b: Sample[], name: string, labels: Record<string, string> = {}): number {
  return sum(b, name, labels) - sum(a, name, labels);
}

/** The commit measured, and which files of the running code differ from it (others edit the tree). */
function codeVersion(): { commit: string; uncommitted: string[] } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: path.join(HERE, '..'), encoding: 'utf8' });
  try {
    const dirty = git('status', '--porcelain', '--', 'edge', 'jobs', 'sinks', 'log', 'stores', 'core', 'cli').split('\n').filter(Boolean).map((l) => l.slice(3));
    return { commit: git('rev-parse', 'HEAD').trim(), uncommitted: dirty };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
}

/** Where the edge writes every delivered notification (the inbox) before streaming it. */
const inboxOf = (profile: 'kafka' | 'embedded') =>
  profile === 'kafka' ? 'SQLite in HERALD_SHARED_STORE_DIR (2 shards, writer threads in the edge process)' : 'SQLite in the data dir (2 shards, writer threads in the process)';

// ── main ───────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  printEnvironment('herald edge: SSE connections per edge process');
  const loadBefore = os.loadavg().map((l) => +l.toFixed(2));
  const limitSelf = openFilesLimit('self');
  const portRange = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  console.log(`# load average ${loadBefore.join(' ')} (2 cores shared with other sessions: figures are noisy); open-files limit (ulimit -n) ${limitSelf ?? 'unlimited'}; ephemeral ports ${portRange.join('-')} per source address, ${ADDRESSES.length} source addresses`);
  if (limitSelf !== null && N + FD_MARGIN > limitSelf) throw new Error(`--connections ${N} + ~${FD_MARGIN} descriptors of the edge's own exceed the open-files limit ${limitSelf} (ulimit -n): use --connections ${limitSelf - FD_MARGIN} or less`);

  const whyNotKafka = opts.embedded ? '--embedded given' : await kafkaAvailable();
  const embedded = whyNotKafka !== null;
  const publishMode = embedded ? 'http' : opts.publish!;
  if (embedded) console.log(`# FALLBACK: ${whyNotKafka}; running the embedded profile (\`herald start\`): the edge CPU and RSS below INCLUDE THE JOB (fan-out) and the publish API`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-edge-bench-'));
  let dep: Deployment | null = null;
  let clients: Clients | null = null;
  let pub: Publisher | null = null;
  let cleanup: Awaited<ReturnType<typeof deleteTopicsAndGroups>> | null = null;
  let interrupted = false;
  const teardown = async () => {
    await clients?.close();
    await pub?.close().catch(() => {});
    const stopping = performance.now();
    await dep?.stop();
    if (dep) console.log(`# herald stopped in ${((performance.now() - stopping) / 1000).toFixed(1)} s`);
    if (!embedded) {
      const admin = kafka().AdminClient.create({ 'bootstrap.servers': BROKERS, 'client.id': 'herald-bench-admin' });
      const all = await new Promise<string[]>((resolve) => admin.listTopics({ timeout: 30_000 }, (err, t) => resolve(err ? [] : t)));
      admin.disconnect();
      const c = await deleteTopicsAndGroups(BROKERS, all.filter((t) => t.startsWith(`${RUN}.`)), ['fanout', 'fanout-pages', 'edge'].map((g) => `${RUN}.${g}`));
      // A member that did not leave (stopped by SIGKILL) keeps its group until its session times out.
      for (let attempt = 0; attempt < 12 && c.errors.some((e) => e.includes('not empty')); attempt++) {
        await sleep(5_000);
        const retry = c.errors.filter((e) => e.includes('not empty')).map((e) => /^group (\S+):/.exec(e)?.[1]).filter((g): g is string => g !== undefined);
        c.errors = c.errors.filter((e) => !e.includes('not empty'));
        const r = await deleteTopicsAndGroups(BROKERS, [], retry);
        c.groups.push(...r.groups);
        c.errors.push(...r.errors);
      }
      cleanup = c;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    if (dep?.heapDir) fs.rmSync(dep.heapDir, { recursive: true, force: true }); // the snapshots were summarised and removed
  };
  process.once('SIGINT', () => {
    interrupted = true;
    void teardown().finally(() => process.exit(130));
  });

  const started = performance.now();
  let result: Record<string, unknown>;
  try {
    dep = await deploy(tmp, embedded);
    const edge = dep.edge;
    const edgePid = edge.child.pid!;
    const edgeLimit = openFilesLimit(edgePid);
    const edgeFds = openFds(edgePid) ?? 0;
    console.log(`# ${dep.profile === 'kafka' ? `kafka profile: herald job (pid ${dep.job!.child.pid}) + herald edge (pid ${edgePid}) at ${edge.url}, topics ${RUN}.*` : `embedded: herald start (pid ${edgePid}) at ${edge.url}`}; inbox: ${inboxOf(dep.profile)}; edge open-files limit ${edgeLimit}, ${edgeFds} open`);
    if (edgeLimit !== null && N + edgeFds + 50 > edgeLimit) throw new Error(`the edge holds ${edgeFds} descriptors already; ${N} streams would pass its open-files limit ${edgeLimit}`);

    // Subscriptions.
    const subBar = new ProgressBar('subscribe', N);
    let subscribed = 0;
    await pool(N, 32, async (i) => {
      await post(edge.url, '/subscribe', { topic_id: `topic-${i % TOPICS}`, user_id: `user-${i}` });
      if (++subscribed % 500 === 0) subBar.update(subscribed, 'subscriptions');
    });
    subBar.update(N, 'subscriptions');
    subBar.done();
    console.log(`# ${N} users, ${TOPICS} topics × ${FANOUT} subscribers (each user one topic); ${CLIENTS} client processes; publishes ${publishMode === 'log' ? 'appended to the publish log by this process (not through the edge)' : 'through the edge (POST /publish: its CPU includes the publish API)'}`);

    if (publishMode === 'log') pub = await logPublisher(dep.publishLog!);
    else pub = httpPublisher(edge.url);
    const warmCount = Math.round(RATE * WARMUP);
    const measureFrom = warmCount;

    // Memory before any stream, with half, with all.
    await sleep(SETTLE * 1000);
    const memBase = await sampleMemory(edge, 0);
    const heapBase = dep.heapDir ? await heapSnapshot(edge, dep.heapDir) : null;
    // Idle without streams: the edge's fixed cost (Kafka polling, timers), to subtract below.
    const idle0Cpu = new CpuMeter(edgePid);
    await sleep(IDLE * 1000);
    const idle0Seconds = idle0Cpu.read();
    clients = new Clients(CLIENTS);
    const half = Math.floor(N / 2);
    const users = Array.from({ length: N }, (_, i) => i);
    const openStarted = performance.now();
    await openStreams(clients, edge.url, users.slice(0, half), measureFrom, 'open 1st half');
    await sleep(SETTLE * 1000);
    const memHalf = await sampleMemory(edge, clients.total('held'));
    await openStreams(clients, edge.url, users.slice(half), measureFrom, 'open 2nd half');
    const openSeconds = (performance.now() - openStarted) / 1000 - SETTLE;
    await sleep(SETTLE * 1000);
    const memFull = await sampleMemory(edge, clients.total('held'));
    const held = clients.total('held');
    const heapFull = dep.heapDir ? await heapSnapshot(edge, dep.heapDir) : null;
    const heapDiff = heapBase && heapFull ? { before_bytes: heapBase.total_bytes, full_bytes: heapFull.total_bytes, per_connection_bytes: +((heapFull.total_bytes - heapBase.total_bytes) / Math.max(1, held)).toFixed(1), top: diffHeapSummaries(heapBase.groups, heapFull.groups, Math.max(1, held)) } : null;
    console.log(`# ${fmt(held)} of ${fmt(N)} streams held (${clients.total('failed')} failed, ${clients.total('closed')} closed), edge counts ${fmt(memFull.edge_sse_connections)}; edge RSS ${fmt(memBase.rss_kib / 1024, 1)} → ${fmt(memHalf.rss_kib / 1024, 1)} → ${fmt(memFull.rss_kib / 1024, 1)} MiB, ${memFull.open_fds} fds`);

    // Idle: N streams held, no publishes.
    const idleCpu = new CpuMeter(edgePid);
    const idleThreads = threadCpu(edgePid);
    await sleep(IDLE * 1000);
    const idleSeconds = idleCpu.read();
    const idleByThread = threadCpuDelta(idleThreads, threadCpu(edgePid));

    // Warm-up (not measured).
    const eventsBefore = clients.total('events');
    const w = await publishAtRate(pub, 0, warmCount, RATE);
    const warmExpected = expectedOf(0, w.accepted);
    const warmDrain = await drain(clients, 'events', eventsBefore, warmExpected.total, 'warm-up');

    // Measured run.
    const loadAtMeasurement = os.loadavg().map((l) => +l.toFixed(2));
    const count = Math.round(RATE * DURATION);
    const metricsBefore = await scrapeAll(edge.url);
    const cpuEdge = new CpuMeter(edgePid);
    const splitBefore = cpuSplit(edgePid);
    const cpuJob = new CpuMeter(dep.job?.child.pid);
    const broker = embedded ? null : brokerPid();
    const cpuBroker = new CpuMeter(broker);
    const cpuMachine = new MachineCpuMeter();
    const cpuSelf = process.cpuUsage();
    const threadsBefore = threadCpu(edgePid);
    const clientPids = clients.procs.map((p) => p.pid!);
    const clientMeters = clientPids.map((p) => new CpuMeter(p));
    let peakRss = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, memoryStatus(edgePid)?.rssKiB ?? 0);
        await sleep(500);
      }
    })();
    const p = await publishAtRate(pub, measureFrom, count, RATE, new ProgressBar('publish', count));
    const publishedAt = performance.now();
    const exp = expectedOf(measureFrom, p.accepted);
    const d = await drain(clients, 'measuredEvents', 0, exp.total, 'deliveries');
    const edgeCpu = cpuEdge.read();
    const splitAfter = cpuSplit(edgePid);
    const edgeSplit = splitBefore && splitAfter ? { user: +(splitAfter.user - splitBefore.user).toFixed(2), system: +(splitAfter.system - splitBefore.system).toFixed(2) } : null;
    const threadsAfter = threadCpu(edgePid);
    const drainSeconds = (performance.now() - publishedAt) / 1000;
    const jobCpu = cpuJob.read();
    const brokerCpu = cpuBroker.read();
    const machine = cpuMachine.read();
    const self = process.cpuUsage(cpuSelf);
    const clientsCpu = clientMeters.reduce((a, m) => a + (m.read() ?? 0), 0);
    sampling = false;
    await sampler;
    const metricsAfter = await scrapeAll(edge.url);
    const memAfter = await sampleMemory(edge, clients.total('held'));
    const reports = await clients.reports(exp.byTopic);

    // ── figures ──
    const lat = new LatencyHistogram();
    for (const r of reports) lat.merge(r.latency);
    const add = (k: keyof ClientReport) => reports.reduce((a, r) => a + (r[k] as number), 0);
    const received = add('measuredEvents');
    const windowSeconds = (Math.max(...reports.map((r) => r.lastMeasuredAt)) - p.startedAt) / 1000;
    const deliveriesPerSecond = received / windowSeconds;
    const perCpuSecond = edgeCpu ? received / edgeCpu : Number.NaN;
    const rssPerConn = (memFull.rss_kib - memBase.rss_kib) / Math.max(1, memFull.connections_held);
    const rssMarginal = (memFull.rss_kib - memHalf.rss_kib) / Math.max(1, memFull.connections_held - memHalf.connections_held);
    const heapPerConn = (memFull.heap_used_kib - memBase.heap_used_kib) / Math.max(1, memFull.connections_held);
    const heapMarginal = (memFull.heap_used_kib - memHalf.heap_used_kib) / Math.max(1, memFull.connections_held - memHalf.connections_held);
    const externalPerConn = (memFull.external_kib - memBase.external_kib) / Math.max(1, memFull.connections_held);
    const edgeByThread = threadCpuDelta(threadsBefore, threadsAfter);
    const growthAll = growthPerConnection(memBase, memFull);
    const growthSecondHalf = growthPerConnection(memHalf, memFull);
    const errors: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    const keptUp = !d.stalled && drainSeconds < 5 && p.accepted.every(Boolean);
    const offered = RATE * FANOUT;

    // Scaling to 100,000 connections per edge (what this run says, assuming linear costs).
    const target100k = 100_000;
    // Streams one edge process can hold under this open-files cap (its own descriptors and a margin aside), in thousands.
    const perProcess = edgeLimit === null ? target100k : Math.max(N, Math.floor((edgeLimit - (memBase.open_fds ?? 0) - FD_MARGIN) / 1000) * 1000);
    const idleCpuPerConnPerSecond = idleSeconds !== null && idle0Seconds !== null ? Math.max(0, idleSeconds - idle0Seconds) / IDLE / Math.max(1, held) : null;
    const scaling = {
      connections: target100k,
      rss_one_process_mib: +((memBase.rss_kib + rssPerConn * target100k) / 1024).toFixed(0),
      rss_marginal_one_process_mib: +((memBase.rss_kib + rssMarginal * target100k) / 1024).toFixed(0),
      open_files_needed_one_process: target100k + (memBase.open_fds ?? 0) + FD_MARGIN,
      processes_at_this_fd_cap: Math.ceil(target100k / perProcess),
      rss_all_processes_mib: +((Math.ceil(target100k / perProcess) * memBase.rss_kib + rssPerConn * target100k) / 1024).toFixed(0),
      connections_per_process_at_this_fd_cap: perProcess,
      idle_cpu_cores: idleCpuPerConnPerSecond !== null ? +(idleCpuPerConnPerSecond * target100k).toFixed(3) : null,
      cores_per_10k_deliveries_per_second: Number.isFinite(perCpuSecond) ? +(10_000 / perCpuSecond).toFixed(3) : null,
    };

    // ── print ──
    console.log('# results');
    console.log(`  profile ${dep.profile}${dep.profile === 'embedded' ? ' (edge CPU/RSS include the job)' : ' (edge process alone)'}; inbox SQLite; ${fmt(N)} connections requested, ${fmt(held)} held, ${add('failed')} failed, ${add('closed')} closed by the server; opened in ${openSeconds.toFixed(1)} s`);
    console.log(`  edge RSS: ${fmt(memBase.rss_kib / 1024, 1)} MiB before streams, ${fmt(memHalf.rss_kib / 1024, 1)} MiB with ${fmt(memHalf.connections_held)}, ${fmt(memFull.rss_kib / 1024, 1)} MiB with ${fmt(memFull.connections_held)} (JS heap used ${fmt(memBase.heap_used_kib / 1024, 1)} → ${fmt(memFull.heap_used_kib / 1024, 1)} MiB, external ${fmt(memBase.external_kib / 1024, 1)} → ${fmt(memFull.external_kib / 1024, 1)} MiB); peak under load ${fmt(peakRss / 1024, 1)} MiB`);
    console.log(`  per connection: RSS ${rssPerConn.toFixed(2)} KiB (marginal, 2nd half: ${rssMarginal.toFixed(2)} KiB), of which JS heap ${heapPerConn.toFixed(2)} KiB (marginal ${heapMarginal.toFixed(2)}), external ${externalPerConn.toFixed(2)} KiB; kernel socket buffers are not in RSS`);
    const split = (g: Record<string, number>) => `RSS ${g.rss} = [heap] (main malloc arena) ${g.main_malloc_arena} + anonymous ${g.anonymous} (V8 heap pages, malloc beyond brk; JS heap used ${g.js_heap_used}) + files`;
    console.log(`  per connection, KiB, all: ${split(growthAll)}`);
    console.log(`            2nd half only: ${split(growthSecondHalf)}`);
    console.log(`  idle: edge ${idle0Seconds === null ? '-' : (idle0Seconds / IDLE).toFixed(3)} CPU-s/s with no stream, ${idleSeconds === null ? '-' : (idleSeconds / IDLE).toFixed(3)} with ${fmt(held)} (${IDLE} s each; SSE pings every 15 s; ${idleByThread.slice(0, 4).map((t) => `${t.thread} ${t.cpu_seconds}`).join(', ')})`);
    if (heapDiff) {
      console.log(`  heap snapshots (after a full GC; this run's RSS figures include the snapshots' own growth): live JS heap ${fmt(heapDiff.before_bytes / 2 ** 20, 1)} → ${fmt(heapDiff.full_bytes / 2 ** 20, 1)} MiB = ${fmt(heapDiff.per_connection_bytes)} B per connection; largest per connection:`);
      for (const r of heapDiff.top.slice(0, 12)) console.log(`    ${fmt(r.bytes_per_unit).padStart(6)} B  ${r.count_per_unit.toFixed(2).padStart(5)} × ${r.type} ${r.name}`);
    }
    console.log(`  load average at the measured run ${loadAtMeasurement.join(' ')}`);
    console.log(`  load: ${fmt(RATE)} publishes/s × ${FANOUT} = ${fmt(offered)} deliveries/s offered for ${DURATION} s, ${MESSAGE_BYTES} B notifications; ${p.accepted.filter(Boolean).length}/${count} publishes accepted`);
    console.log(`  deliveries: ${fmt(received)} of ${fmt(exp.total)} expected in ${windowSeconds.toFixed(2)} s = ${fmt(deliveriesPerSecond)}/s${keptUp ? ' (kept up: this is the offered load, not a ceiling)' : d.stalled ? ' (STALLED)' : ` (drain ${drainSeconds.toFixed(1)} s after the last publish: the pipeline did not keep up)`}; missing ${add('missing')} (${add('usersMissing')} users), duplicated ${add('duplicates')} (${add('usersWithDuplicates')} users), foreign ${add('foreign')}`);
    console.log(`  edge CPU ${fmt(edgeCpu, 2)} s (user ${fmt(edgeSplit?.user, 2)}, system ${fmt(edgeSplit?.system, 2)}) → ${fmt(perCpuSecond)} deliveries per CPU-second (${(1e6 / perCpuSecond).toFixed(1)} µs each); by thread: ${edgeByThread.slice(0, 6).map((t) => `${t.thread}${t.threads > 1 ? `×${t.threads}` : ''} ${t.cpu_seconds}`).join(', ')}`);
    console.log(`  other CPU in the window: job ${fmt(jobCpu, 2)} s, broker ${fmt(brokerCpu, 2)} s, ${CLIENTS} clients ${fmt(clientsCpu, 2)} s, this process ${fmt((self.user + self.system) / 1e6, 2)} s; machine busy ${fmt(machine?.busy, 1)} of ${fmt(windowSeconds * os.availableParallelism(), 1)} core-s (steal ${fmt(machine?.steal, 1)})`);
    console.log(`  publish → event: p50 ${fmt(lat.percentile(50), 1)} ms, p99 ${fmt(lat.percentile(99), 1)} ms, p99.9 ${fmt(lat.percentile(99.9), 1)} ms, max ${fmt(lat.maxMs, 1)} ms (${fmt(lat.count)} events)`);
    console.log('# goals');
    const goals = [
      target('edge RSS per connection (KiB)', +rssPerConn.toFixed(2), 10, 'KiB', false),
      target('deliveries per CPU-second of the edge', Math.round(perCpuSecond), 50_000, 'per CPU-s'),
    ];
    if (goals[0]!.met) goals[0]!.met = rssMarginal <= 10;
    console.log(`# at 100,000 connections per edge (linear from this run): RSS ${fmt(scaling.rss_one_process_mib)} MiB in one process (marginal rate: ${fmt(scaling.rss_marginal_one_process_mib)} MiB), which needs an open-files limit ≥ ${fmt(scaling.open_files_needed_one_process)}; under this ${fmt(edgeLimit)} cap, ${scaling.processes_at_this_fd_cap} edge processes of ≤ ${fmt(perProcess)} streams (${fmt(scaling.rss_all_processes_mib)} MiB together); ${fmt(scaling.idle_cpu_cores, 3)} cores for idle streams (pings); each 10,000 deliveries/s costs ${fmt(scaling.cores_per_10k_deliveries_per_second, 2)} edge cores whatever the connection count`);
    if (dep.cpuProfDir) console.log(`# edge CPU profiles (written when the edge stops): ${dep.cpuProfDir}`);

    result = {
      timestamp: new Date().toISOString(),
      run_id: RUN,
      code: codeVersion(),
      load_average: { before: loadBefore, at_measurement: loadAtMeasurement, after: os.loadavg().map((l) => +l.toFixed(2)) },
      deployment: {
        profile: dep.profile,
        fallback_reason: whyNotKafka,
        edge_cpu_includes: dep.profile === 'kafka' ? (publishMode === 'log' ? 'edge stage (inbox + SSE), HTTP, pings' : 'edge stage (inbox + SSE), HTTP, pings, POST /publish') : 'everything (job, fan-out, edge, publish API)',
        inbox: inboxOf(dep.profile),
        publish: publishMode === 'log' ? 'appended to the publish log by the benchmark process' : 'POST /publish on the edge',
        open_files_limit: { shell: limitSelf, edge: edgeLimit },
        ephemeral_ports: portRange,
        source_addresses: ADDRESSES.length,
      },
      parameters: { connections: N, clients: CLIENTS, topics: TOPICS, fanout: FANOUT, rate_per_second: RATE, duration_s: DURATION, warmup_s: WARMUP, idle_s: IDLE, settle_s: SETTLE, message_bytes: MESSAGE_BYTES, open_rate_per_second: OPEN_RATE, sse_ping_ms: 'default (15000)' },
      connections: { requested: N, held, failed: add('failed'), closed_by_server: add('closed'), edge_gauge: memFull.edge_sse_connections, open_seconds: +openSeconds.toFixed(2), errors, error_samples: reports.flatMap((r) => r.errorSamples).slice(0, 10) },
      memory: {
        before_streams: memBase,
        half: memHalf,
        full: memFull,
        after_load: memAfter,
        peak_rss_kib_under_load: peakRss,
        rss_per_connection_kib: +rssPerConn.toFixed(3),
        rss_marginal_per_connection_kib: +rssMarginal.toFixed(3),
        heap_used_per_connection_kib: +heapPerConn.toFixed(3),
        heap_used_marginal_per_connection_kib: +heapMarginal.toFixed(3),
        external_per_connection_kib: +externalPerConn.toFixed(3),
        growth_per_connection_kib: { all: growthAll, second_half: growthSecondHalf },
      },
      idle: { seconds: IDLE, edge_cpu_seconds_no_streams: idle0Seconds, edge_cpu_seconds: idleSeconds, edge_cpu_by_thread: idleByThread },
      heap_snapshot_diff: heapDiff,
      warmup: { publishes: warmCount, expected_events: warmExpected.total, stalled: warmDrain.stalled },
      load: {
        publishes: { planned: count, accepted: p.accepted.filter(Boolean).length, publish_seconds: +p.seconds.toFixed(3) },
        offered_deliveries_per_second: offered,
        expected_events: exp.total,
        received_events: received,
        distinct_events: add('distinct'),
        missing: add('missing'),
        users_missing: add('usersMissing'),
        duplicates: add('duplicates'),
        users_with_duplicates: add('usersWithDuplicates'),
        foreign: add('foreign'),
        window_seconds: +windowSeconds.toFixed(3),
        drain_seconds_after_last_publish: +drainSeconds.toFixed(3),
        stalled: d.stalled,
        kept_up: keptUp,
        deliveries_per_second: Math.round(deliveriesPerSecond),
        edge_cpu_seconds: edgeCpu,
        edge_cpu_user_system: edgeSplit,
        deliveries_per_edge_cpu_second: Math.round(perCpuSecond),
        edge_cpu_us_per_delivery: +(1e6 / perCpuSecond).toFixed(2),
        edge_cpu_by_thread: edgeByThread,
        latency_ms: { p50: +lat.percentile(50).toFixed(2), p90: +lat.percentile(90).toFixed(2), p99: +lat.percentile(99).toFixed(2), p999: +lat.percentile(99.9).toFixed(2), max: +lat.maxMs.toFixed(2), mean: +lat.meanMs.toFixed(2), events: lat.count, resolution: '1% (log buckets)' },
        edge_metrics: {
          sse_events_sent: delta(metricsBefore, metricsAfter, 'herald_sse_events_sent_total'),
          edge_records_in: delta(metricsBefore, metricsAfter, 'herald_stage_records_in_total', { stage: 'edge' }),
          inbox_stored: delta(metricsBefore, metricsAfter, 'herald_inbox_stored_total'),
          overflow_closed: delta(metricsBefore, metricsAfter, 'herald_sse_overflow_closed_total'),
          edge_batches: delta(metricsBefore, metricsAfter, 'herald_stage_batch_duration_seconds_count', { stage: 'edge' }),
        },
        other_cpu_seconds: { job: jobCpu, broker: brokerCpu, clients: +clientsCpu.toFixed(2), bench: +((self.user + self.system) / 1e6).toFixed(2), machine_busy: machine?.busy ?? null, machine_steal: machine?.steal ?? null },
      },
      goals,
      scaling_to_100k: scaling,
      cpu_profile_dir: dep.cpuProfDir,
    };
  } finally {
    if (!interrupted) await teardown();
  }
  const c = cleanup as Awaited<ReturnType<typeof deleteTopicsAndGroups>> | null;
  console.log(`# cleanup: ${c ? `deleted ${c.topics.length} topics, ${c.groups.length} groups${c.errors.length > 0 ? `; errors: ${c.errors.join('; ')}` : ''}` : 'embedded data dir removed'}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  result.cleanup = c;
  writeResult(opts.out!, result);
}

await main();
