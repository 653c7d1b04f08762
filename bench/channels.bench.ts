/**
 * Benchmark of the channel senders (Herald issue 6): sends/s per channel (email, sms, push) with
 * the real providers against local protocol peers (test/helpers/smtp-peer.ts: smtp-server +
 * mailparser; sms-peer.ts: node:http; push-peer.ts: verifies VAPID and decrypts RFC 8291), the
 * peers in a child process of their own (bench/lib/channel-peers.ts) so this process's CPU time
 * is the sender's alone. Both processes share the machine's cores: the push peer's ECDH and
 * AES-GCM per message compete with the sender's, and so does every other process on the box.
 *
 * Per channel, after a warm-up of every path (a tenth of N, at least 200), ROUNDS rounds of, interleaved:
 *   provider        N sends straight to `provider.send`, CONCURRENCY in flight; latency per send;
 *   worker+memory   the same N as SendJobs (built by sinks/channels/send-jobs.ts `sendJobsFor`)
 *                   through `ChannelWorker.process` in batches of BATCH_MIN–BATCH_MAX jobs (one
 *                   batch after the other, like one partition's consumer), with a
 *                   ProviderRateLimiter (memory) at 100,000/s and MemoryDeliveryStatusStore;
 *                   latency per batch (statusOf, sends, one record());
 *   worker+sqlite   the same with the SQLite DeliveryStatusStore (temp file, synchronous=NORMAL).
 * Reported: sends/s median and min–max over the rounds, latency p50/p99 over all rounds, sender
 * CPU (process.cpuUsage) as sends per CPU-second, the peers' CPU per 1,000 sends. Every run checks
 * that each send was accepted and that the peer recorded it.
 *
 * Then a paced run: email limiter at PACED_RATE/s for PACED_SECONDS (worker+memory, batches of
 * 20), with the SMTP peer refusing (421) above PACED_RATE per sliding second: the achieved rate and
 * the peak number of arrivals at the peer in any sliding second (≤ PACED_RATE: the worker waits
 * one second after the closing window's last send, see worker.ts #waitOutWindow).
 *
 * Usage: npm run bench:channels   (prints the table, writes bench/results/channels.json)
 * Env: EMAIL_N (2000), SMS_N (4000), PUSH_N (1500), CONCURRENCY (16, provider and worker),
 *      ROUNDS (3), BATCH_MIN (50), BATCH_MAX (200), SMTP_CONNECTIONS (5, as providers.ts),
 *      PUSH_SUBSCRIPTIONS (500), PACED_RATE (10), PACED_SECONDS (5), CHANNELS (email,sms,push).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChannelName } from '../core/types.ts';
import type { ChannelRecord } from '../sinks/channels/channel-record.ts';
import { createSmtpProvider } from '../sinks/channels/email/smtp-provider.ts';
import { MemoryDeliveryStatusStore } from '../sinks/channels/memory-status-store.ts';
import { createWebPushProvider, generateVapidKeys } from '../sinks/channels/push/web-push-provider.ts';
import { ProviderRateLimiter } from '../sinks/channels/rate-limiter.ts';
import { sendJobsFor } from '../sinks/channels/send-jobs.ts';
import { createHttpSmsProvider } from '../sinks/channels/sms/http-sms-provider.ts';
import type { ChannelProvider, EmailMessage, PushMessage, PushSubscriptionJson, SmsMessage } from '../sinks/channels/types.ts';
import { ChannelWorker, type SendJob } from '../sinks/channels/worker.ts';
import { openSqliteDeliveryStatusStore } from '../stores/sqlite/index.ts';
import type { DeliveryStatusStore, UserChannelSettings } from '../stores/types.ts';
import { startChannelPeers, type ChannelPeers, type PeerOps } from './lib/channel-peers.ts';
import { rng, uuidV7 } from './lib/data.ts';
import { MachineCpuMeter } from './lib/proc-metrics.ts';
import { percentile, printEnvironment, writeResult } from './lib/report.ts';

type AnyMessage = EmailMessage | SmsMessage | PushMessage;
type Path = 'provider' | 'worker+memory' | 'worker+sqlite';

const int = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${process.env[name]}`);
  return v;
};
const N: Record<ChannelName, number> = { email: int('EMAIL_N', 2_000), sms: int('SMS_N', 4_000), push: int('PUSH_N', 1_500) };
const CONCURRENCY = int('CONCURRENCY', 16);
const ROUNDS = int('ROUNDS', 3);
const BATCH_MIN = int('BATCH_MIN', 50);
const BATCH_MAX = Math.max(BATCH_MIN, int('BATCH_MAX', 200));
const SMTP_CONNECTIONS = int('SMTP_CONNECTIONS', 5);
const PUSH_SUBSCRIPTIONS = int('PUSH_SUBSCRIPTIONS', 500);
const PACED_RATE = int('PACED_RATE', 10);
const PACED_SECONDS = int('PACED_SECONDS', 5);
const PACED_BATCH = 20;
const UNLIMITED = 100_000;
const CHANNELS = (process.env.CHANNELS ?? 'email,sms,push').split(',').map((c) => c.trim()) as ChannelName[];
const PATHS: readonly Path[] = ['provider', 'worker+memory', 'worker+sqlite'];
for (const c of CHANNELS) if (!(c in N)) throw new Error(`CHANNELS: unknown channel ${c}`);

/** Sends of each path's warm-up run. */
const warmUp = (channel: ChannelName): number => Math.max(200, Math.floor(N[channel] / 10));

const T0 = Date.now();
let users = 0; // every run gets fresh users (addresses, phone numbers): no per-recipient budget or key is reused
let notifications = 0;

/** `count` send jobs of `channel` the way the channel stage plans them: 100 users per notification. */
function planJobs(channel: ChannelName, count: number, subscriptions: readonly PushSubscriptionJson[]): SendJob<AnyMessage>[] {
  const records: [string, ChannelRecord][] = [];
  const settings = new Map<string, UserChannelSettings>();
  let notificationId = '';
  for (let i = 0; i < count; i++) {
    if (i % 100 === 0) notificationId = uuidV7(T0, ++notifications);
    const u = ++users;
    const userId = `user-${u}`;
    const content =
      channel === 'email' ? { subject: `Order #${u} shipped`, text: `Hello,\n\nyour order #${u} is on its way and should arrive within two working days.\n\nThe shop`, html: `<p>Hello,</p><p>your order <b>#${u}</b> is on its way and should arrive within two working days.</p><p>The shop</p>` }
      : channel === 'sms' ? { text: `Order #${u} shipped: it should arrive within two working days.` }
      : { title: `Order #${u} shipped`, body: 'It should arrive within two working days.', url: `https://shop.example/orders/${u}` };
    records.push([userId, { notification_id: notificationId, topic_id: 'orders', published_at: new Date(T0).toISOString(), channel, critical: false, content, template_id: null }]);
    settings.set(userId, {
      email: channel === 'email' ? `user-${u}@example.com` : null,
      phone: channel === 'sms' ? `+1${2_000_000_000 + u}` : null,
      push: channel === 'push' ? [subscriptions[u % subscriptions.length]!] : [],
    });
  }
  const planned = sendJobsFor(records, settings, new Map(), { pushTtlSeconds: 3_600 }, Date.now());
  if (planned.jobs.length !== count) throw new Error(`planned ${planned.jobs.length} of ${count} ${channel} jobs`);
  return planned.jobs;
}

/** One measured run. */
interface Run {
  sends: number;
  seconds: number;
  sends_per_s: number;
  /** Sender process CPU, s (user + system). */
  cpu_s: number;
  cpu_user_s: number;
  cpu_system_s: number;
  sends_per_cpu_s: number;
  /** The peers' process CPU, s. */
  peer_cpu_s: number;
  /** Busy CPU-s of the whole machine (both cores, every process) during the run. */
  machine_busy_s: number | null;
  /** Latencies, ms: per send (provider) or per batch (worker). */
  lat: number[];
}

async function measure(peers: ChannelPeers, channel: ChannelName, sends: number, body: (lat: number[]) => Promise<void>): Promise<Run> {
  const before = await peers.call('counts');
  const peerCpu0 = await peers.call('cpu');
  const machine = new MachineCpuMeter();
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await body(lat);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const busy = machine.read();
  const peerCpu1 = await peers.call('cpu');
  const after = await peers.call('counts');
  const arrived = after[channel] - before[channel];
  if (arrived !== sends) throw new Error(`${channel}: the peer recorded ${arrived} of ${sends} sends (refusals: ${after.pushRefusals.join('; ')})`);
  await peers.call('reset');
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return {
    sends,
    seconds,
    sends_per_s: sends / seconds,
    cpu_s: cpuS,
    cpu_user_s: cpu.user / 1e6,
    cpu_system_s: cpu.system / 1e6,
    sends_per_cpu_s: sends / cpuS,
    peer_cpu_s: (peerCpu1.user + peerCpu1.system - peerCpu0.user - peerCpu0.system) / 1e6,
    machine_busy_s: busy?.busy ?? null,
    lat: lat.sort((a, b) => a - b),
  };
}

/** N sends straight to the provider, `CONCURRENCY` in flight. */
async function providerRun(peers: ChannelPeers, provider: ChannelProvider<AnyMessage>, jobs: readonly SendJob<AnyMessage>[]): Promise<Run> {
  return measure(peers, provider.channel, jobs.length, async (lat) => {
    let next = 0;
    const failures: string[] = [];
    const lane = async (): Promise<void> => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const t = performance.now();
        const outcome = await provider.send(job.message);
        lat.push(performance.now() - t);
        if (outcome.kind !== 'sent') failures.push(`${outcome.kind}: ${outcome.reason}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    if (failures.length > 0) throw new Error(`${provider.channel}: ${failures.length} sends not accepted, e.g. ${failures[0]}`);
  });
}

/** Batch sizes BATCH_MIN–BATCH_MAX (seeded) that add up to `total`. */
function batchSizes(total: number, seed: number): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let left = total; left > 0; ) {
    const n = Math.min(left, BATCH_MIN + Math.floor(r() * (BATCH_MAX - BATCH_MIN + 1)));
    out.push(n);
    left -= n;
  }
  return out;
}

/** The jobs through the worker, one batch after the other; every job must end `sent`. */
async function workerRun(peers: ChannelPeers, worker: ChannelWorker<AnyMessage>, channel: ChannelName, jobs: readonly SendJob<AnyMessage>[], seed: number): Promise<Run> {
  const sizes = batchSizes(jobs.length, seed);
  return measure(peers, channel, jobs.length, async (lat) => {
    let at = 0;
    for (const size of sizes) {
      const batch = jobs.slice(at, at + size);
      at += size;
      const t = performance.now();
      const result = await worker.process(batch, Date.now());
      lat.push(performance.now() - t);
      const sent = result.statuses.filter((s) => s.state === 'sent').length;
      if (sent !== size || result.retries.length > 0 || result.deadLetters.length > 0) {
        throw new Error(`${channel}: batch of ${size}: ${sent} sent, ${result.retries.length} retries, ${result.deadLetters.length} dead letters ${JSON.stringify(result.deadLetters[0] ?? result.retries[0] ?? null)}`);
      }
    }
  });
}

function providerOf(channel: ChannelName, urls: PeerOps['urls']['result'], vapid: { publicKey: string; privateKey: string }): ChannelProvider<AnyMessage> {
  switch (channel) {
    case 'email':
      return createSmtpProvider({ url: urls.smtpUrl, from: 'herald@example.com', pool: { maxConnections: SMTP_CONNECTIONS } }) as ChannelProvider<AnyMessage>;
    case 'sms':
      return createHttpSmsProvider({ baseUrl: urls.smsUrl, apiToken: urls.smsToken, from: 'Herald' }) as ChannelProvider<AnyMessage>;
    case 'push': {
      // The peer listens on loopback http: allowed only with allowPrivateEndpoints (a variable, not
      // a literal, so this compiles against a provider that predates the option too).
      const options = { subject: 'mailto:ops@example.com', ...vapid, allowPrivateEndpoints: true };
      return createWebPushProvider(options) as ChannelProvider<AnyMessage>;
    }
  }
}

/** The production limiter of `channel` with a budget that never limits (sms keeps its per-recipient budget). */
function unlimited(channel: ChannelName, perSecond = UNLIMITED): ProviderRateLimiter {
  const limits = channel === 'sms' ? { perSecond, perRecipientPerHour: 10 } : { perSecond };
  return new ProviderRateLimiter(`bench-${channel}-${perSecond}-${Math.random().toString(36).slice(2, 8)}`, limits, { kind: 'memory' });
}

interface Summary {
  runs: number;
  sends_per_run: number;
  sends_per_s: { median: number; min: number; max: number; rounds: number[] };
  latency_ms: { of: 'send' | 'batch'; p50: number; p99: number; max: number };
  sender_cpu_s: number;
  sends_per_cpu_s: number;
  peer_cpu_ms_per_1000_sends: number;
  machine_busy_fraction: number | null;
  /** Busy CPU of every other process on the box (machine busy − sender − peers), fraction of all cores. */
  others_busy_fraction: number | null;
}

function summarize(runs: readonly Run[], of: 'send' | 'batch'): Summary {
  const rates = runs.map((r) => r.sends_per_s);
  const sorted = [...rates].sort((a, b) => a - b);
  const lat = runs.flatMap((r) => r.lat).sort((a, b) => a - b);
  const sends = runs.reduce((s, r) => s + r.sends, 0);
  const cpu = runs.reduce((s, r) => s + r.cpu_s, 0);
  const peer = runs.reduce((s, r) => s + r.peer_cpu_s, 0);
  const busy = runs.every((r) => r.machine_busy_s !== null) ? runs.reduce((s, r) => s + r.machine_busy_s!, 0) : null;
  const wall = runs.reduce((s, r) => s + r.seconds, 0);
  const r1 = (n: number): number => Math.round(n);
  const r2 = (n: number): number => +n.toFixed(2);
  return {
    runs: runs.length,
    sends_per_run: runs[0]!.sends,
    sends_per_s: { median: r1(sorted[sorted.length >> 1]!), min: r1(sorted[0]!), max: r1(sorted[sorted.length - 1]!), rounds: rates.map(r1) },
    latency_ms: { of, p50: r2(percentile(lat, 50)), p99: r2(percentile(lat, 99)), max: r2(lat[lat.length - 1]!) },
    sender_cpu_s: r2(cpu),
    sends_per_cpu_s: r1(sends / cpu),
    peer_cpu_ms_per_1000_sends: r1((peer * 1e6) / sends),
    machine_busy_fraction: busy === null ? null : r2(busy / (wall * os.availableParallelism())),
    others_busy_fraction: busy === null ? null : r2(Math.max(0, busy - cpu - peer) / (wall * os.availableParallelism())),
  };
}

/** Paced email run: limiter at PACED_RATE/s; arrivals per sliding second at the peer. */
async function pacedRun(peers: ChannelPeers, provider: ChannelProvider<AnyMessage>): Promise<Record<string, unknown>> {
  const count = PACED_RATE * PACED_SECONDS;
  const jobs = planJobs('email', count, []);
  const worker = new ChannelWorker<AnyMessage>({ provider, limiter: unlimited('email', PACED_RATE), statuses: new MemoryDeliveryStatusStore(), concurrency: CONCURRENCY });
  await peers.call('reset');
  const before = await peers.call('counts');
  await peers.call('smtpRateLimit', { perSecond: PACED_RATE });
  const t0 = performance.now();
  let sent = 0;
  let retries = 0;
  for (let at = 0; at < jobs.length; at += PACED_BATCH) {
    const result = await worker.process(jobs.slice(at, at + PACED_BATCH), Date.now());
    sent += result.statuses.filter((s) => s.state === 'sent').length;
    retries += result.retries.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  await peers.call('smtpRateLimit', { perSecond: null });
  const arrivals = (await peers.call('emailArrivals')).sort((a, b) => a - b);
  const after = await peers.call('counts');
  await peers.call('reset');
  let peak = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while (arrivals[j]! <= arrivals[i]! - 1_000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  // Windows: arrivals split where the peer saw nothing for 500 ms. The steady rate is sends per
  // window start to window start (the last window's sends are not followed by a wait).
  const windows: number[][] = [];
  for (const a of arrivals) {
    const w = windows[windows.length - 1];
    if (w !== undefined && a - w[w.length - 1]! < 500) w.push(a);
    else windows.push([a]);
  }
  const starts = windows.map((w) => w[0]!);
  const period = starts.length > 1 ? (starts[starts.length - 1]! - starts[0]!) / (starts.length - 1) : null;
  const perWindow = windows.slice(0, -1).reduce((n, w) => n + w.length, 0) / Math.max(1, windows.length - 1);
  return {
    limiter_per_s: PACED_RATE,
    jobs: count,
    batch: PACED_BATCH,
    sent,
    retries,
    refused_421_by_peer: after.emailRateLimited - before.emailRateLimited,
    seconds: +seconds.toFixed(2),
    achieved_per_s: +(sent / seconds).toFixed(2),
    windows: windows.length,
    window_period_ms: period === null ? null : Math.round(period),
    steady_per_s: period === null ? null : +((perWindow * 1000) / period).toFixed(2),
    peak_arrivals_in_sliding_second: peak,
  };
}

async function main(): Promise<void> {
  printEnvironment('channels: sends/s per channel against local protocol peers');
  console.log(`# load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other processes share the cores)`);
  console.log(`# N email ${N.email}, sms ${N.sms}, push ${N.push}; concurrency ${CONCURRENCY}; ${ROUNDS} rounds after a warm-up; worker batches ${BATCH_MIN}-${BATCH_MAX}; SMTP pool ${SMTP_CONNECTIONS} connections`);
  console.log('# peers run in a child process on the same cores: push includes the peer verifying VAPID and decrypting each message (RFC 8291)');
  const loadBefore = os.loadavg();
  const started = performance.now();
  const peers = await startChannelPeers();
  const urls = await peers.call('urls');
  const vapid = generateVapidKeys();
  const subscriptions = await peers.call('subscribe', { n: PUSH_SUBSCRIPTIONS, applicationServerKey: vapid.publicKey });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-channels-bench-'));
  const results: Record<string, Record<string, Summary>> = {};
  let paced: Record<string, unknown> | null = null;
  try {
    for (const channel of CHANNELS) {
      const provider = providerOf(channel, urls, vapid);
      const memory = new MemoryDeliveryStatusStore();
      const sqlite: DeliveryStatusStore = await openSqliteDeliveryStatusStore({ path: path.join(dir, `${channel}-delivery-status.db`) });
      const workers = {
        'worker+memory': new ChannelWorker<AnyMessage>({ provider, limiter: unlimited(channel), statuses: memory, concurrency: CONCURRENCY }),
        'worker+sqlite': new ChannelWorker<AnyMessage>({ provider, limiter: unlimited(channel), statuses: sqlite, concurrency: CONCURRENCY }),
      };
      const run = (p: Path, count: number, seed: number): Promise<Run> => {
        const jobs = planJobs(channel, count, subscriptions);
        return p === 'provider' ? providerRun(peers, provider, jobs) : workerRun(peers, workers[p], channel, jobs, seed);
      };
      const warm = warmUp(channel);
      process.stderr.write(`${channel}: warm-up`);
      for (const p of PATHS) await run(p, warm, 0);
      const runs: Record<Path, Run[]> = { provider: [], 'worker+memory': [], 'worker+sqlite': [] };
      for (let round = 1; round <= ROUNDS; round++) {
        process.stderr.write(`, round ${round}`);
        for (const p of PATHS) runs[p].push(await run(p, N[channel], round));
      }
      process.stderr.write('\n');
      results[channel] = Object.fromEntries(PATHS.map((p) => [p, summarize(runs[p], p === 'provider' ? 'send' : 'batch')]));
      if (channel === 'email') {
        process.stderr.write(`email: paced run at ${PACED_RATE}/s for ${PACED_SECONDS} s\n`);
        paced = await pacedRun(peers, provider);
      }
      await provider.close();
      await sqlite.close();
      await memory.close();
    }
  } finally {
    await peers.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const fmt = (n: number): string => n.toLocaleString('en-US');
  console.log('');
  console.log(`${'channel'.padEnd(8)}${'path'.padEnd(15)}${'sends/s median (min-max)'.padEnd(27)}${'p50 / p99 ms'.padEnd(22)}${'sends/CPU-s'.padStart(12)}${'peer CPU ms/1k'.padStart(16)}${'box busy'.padStart(10)}${'others'.padStart(8)}`);
  for (const [channel, byPath] of Object.entries(results)) {
    for (const [p, s] of Object.entries(byPath)) {
      const rate = `${fmt(s.sends_per_s.median)} (${fmt(s.sends_per_s.min)}-${fmt(s.sends_per_s.max)})`;
      const lat = `${s.latency_ms.p50} / ${s.latency_ms.p99} per ${s.latency_ms.of}`;
      const pct = (f: number | null): string => (f === null ? 'n/a' : `${Math.round(f * 100)}%`);
      const busy = pct(s.machine_busy_fraction);
      console.log(`${channel.padEnd(8)}${p.padEnd(15)}${rate.padEnd(27)}${lat.padEnd(22)}${fmt(s.sends_per_cpu_s).padStart(12)}${fmt(s.peer_cpu_ms_per_1000_sends).padStart(16)}${busy.padStart(10)}${pct(s.others_busy_fraction).padStart(8)}`);
    }
  }
  if (paced !== null) {
    console.log('');
    console.log(
      `paced email (limiter ${paced.limiter_per_s}/s, ${paced.jobs} jobs in batches of ${paced.batch}): ${paced.sent} sent in ${paced.seconds} s = ${paced.achieved_per_s}/s ` +
        `(wall clock; the last window waits for nothing); steady ${paced.steady_per_s}/s (${paced.windows} windows, one every ${paced.window_period_ms} ms); peak arrivals in any sliding second at the peer: ${paced.peak_arrivals_in_sliding_second} (limit ${paced.limiter_per_s}); ` +
        `peer 421s: ${paced.refused_421_by_peer}, retries: ${paced.retries}`,
    );
  }
  console.log('# box busy: all processes, both cores; others: what neither this process nor the peers used (other sessions: wall-clock rates are noisy when it is high, sends per CPU-second less so)');
  console.log(`# total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  writeResult('channels', {
    load_average_before: loadBefore.map((l) => +l.toFixed(2)),
    load_average_after: os.loadavg().map((l) => +l.toFixed(2)),
    parameters: {
      sends: N,
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      warm_up_sends: Object.fromEntries(CHANNELS.map((c) => [c, warmUp(c)])),
      worker_batch: [BATCH_MIN, BATCH_MAX],
      limiter_per_s: UNLIMITED,
      sms_per_recipient_per_hour: 10,
      smtp_pool_connections: SMTP_CONNECTIONS,
      push_subscriptions: PUSH_SUBSCRIPTIONS,
      sqlite_synchronous: 'NORMAL',
      peers: 'child process on the same machine (test/helpers smtp-peer, sms-peer, push-peer); push peer verifies VAPID and decrypts every message',
    },
    results,
    paced_email: paced,
  });
}

await main();
