/**
 * Herald on Kafka against the Kafka ceiling of this machine (`npm run bench:kafka -- [options]`).
 *
 * 1. Ceiling, librdkafka only (bench/lib/kafka-ceiling.ts), on a fresh 12-partition topic:
 *    produce --records 1 KiB records (acks=all, idempotent, lz4, linger 5 ms, delivery reports
 *    counted), consume them in a consumer group (read_committed, batches of 1000), and copy them
 *    consume-transform-produce in transactions of ~1000 records with sendOffsetsToTransaction
 *    (the fair ceiling of Herald's exactly-once fan-out stage).
 * 2. Herald on the kafka profile (`herald start`: job + edge in one child process) with an
 *    isolated topology (unique log topic and group names) and a fresh data dir: --users users,
 *    --topics topics with --fanout subscribers each (uniform, or Zipf(--zipf) counts), --streams
 *    users on SSE; publishes at --rate per second for --duration seconds after --warmup seconds
 *    (publishes Herald is too slow to take within --duration are not sent, so the run time stays
 *    fixed). The default rate (1000/s × fan-out 20) is more than Herald takes on a 2-core box, so
 *    deliveries/s is its capacity and the ratios compare capacities; the output says whether
 *    Herald kept up (then deliveries/s is just the offered load, and the latency is unqueued).
 *    Deliveries = user-log records written by the fan-out stage
 *    (herald_stage_records_out_total{stage="fanout"}), over the time from the first publish until
 *    the edge stage has read them all; publish→SSE latency from the streams (the `sent_at` of
 *    each message, this process's clock).
 * 3. Prints a table with the ratios Herald ÷ ceiling, CPU seconds of the benchmark process, the
 *    Herald process and the broker per phase, and writes bench/results/kafka.json.
 * 4. Deletes every topic and consumer group the run created.
 *
 * Options: --brokers (HERALD_KAFKA_BROKERS, 127.0.0.1:9092) --records 200000 --value-bytes 1024
 * --partitions 12 --users 2000 --topics 200 --fanout 20 --zipf 0 (uniform) --streams 500
 * --rate 1000 --duration 20 --warmup 3 --message-bytes 1024 --concurrency 64 --seed 1
 * --skip-ceiling --skip-herald --max-batch-records N (experiment: both stages' batch size in the
 * topology copy) --out kafka.
 *
 * The ceiling's values are random bytes (lz4 cannot shrink them); Herald's messages are JSON
 * padded with 'x' (as in load.bench.ts), so its records compress well: the ceiling is not helped
 * by compression.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { heraldTarget, type HeraldTarget } from './lib/herald-target.ts';
import { consumePhase, createTopic, deleteTopicsAndGroups, kafka, producePhase, transactionalCopyPhase, type ConsumeResult, type PhaseResult, type TransactionalResult } from './lib/kafka-ceiling.ts';
import { brokerPid, CpuMeter, MachineCpuMeter, scrapeAll, sum, type Sample } from './lib/proc-metrics.ts';
import { ProgressBar } from './lib/progress.ts';
import { percentile, printEnvironment, writeResult } from './lib/report.ts';
import { SseListener } from './lib/sse-listener.ts';
import { seededRandom as prng } from './lib/prng.ts';
import { jsonPoster, pool } from './lib/http-client.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: opts } = parseArgs({
  options: {
    brokers: { type: 'string', default: process.env.HERALD_KAFKA_BROKERS ?? '127.0.0.1:9092' },
    records: { type: 'string', default: process.env.N ?? '200000' },
    'value-bytes': { type: 'string', default: '1024' },
    partitions: { type: 'string', default: '12' },
    users: { type: 'string', default: '2000' },
    topics: { type: 'string', default: '200' },
    fanout: { type: 'string', default: '20' },
    zipf: { type: 'string', default: '0' },
    streams: { type: 'string', default: '500' },
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    'message-bytes': { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
    'max-batch-records': { type: 'string' }, // experiment: override both stages' max_batch_records in the topology copy
    'skip-ceiling': { type: 'boolean', default: false },
    'skip-herald': { type: 'boolean', default: false },
    out: { type: 'string', default: 'kafka' },
  },
});

const num = (name: keyof typeof opts): number => {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number (got ${String(opts[name])})`);
  return v;
};

const BROKERS = opts.brokers!;
const RUN = `hbench-${randomUUID().slice(0, 8)}`; // prefix of every topic and group of this run
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


// ── 1. ceiling ─────────────────────────────────────────────────────────────────────────────

/** CPU seconds of the broker and of the whole machine (other sessions share both) during a phase. */
interface SharedCpu {
  broker_cpu_seconds: number | null;
  machine: Machine;
}

interface CeilingResult {
  produce: PhaseResult & SharedCpu;
  consume: ConsumeResult & SharedCpu;
  transactional: TransactionalResult & SharedCpu;
}

/** Machine CPU over a phase: busy core-seconds of `wall_seconds` × cores, what no measured process used, VM steal. */
interface Machine {
  wall_seconds: number;
  busy_cpu_seconds: number | null;
  others_cpu_seconds: number | null;
  steal_cpu_seconds: number | null;
}

function machine(m: MachineCpuMeter, startedAt: number, ...ours: (number | null)[]): Machine {
  const r = m.read();
  const mine = ours.every((x) => x !== null) ? (ours as number[]).reduce((a, b) => a + b, 0) : null;
  return {
    wall_seconds: +((performance.now() - startedAt) / 1000).toFixed(2),
    busy_cpu_seconds: r?.busy ?? null,
    others_cpu_seconds: r && mine !== null ? +Math.max(0, r.busy - mine).toFixed(2) : null,
    steal_cpu_seconds: r?.steal ?? null,
  };
}

/** Runs a ceiling phase with the broker's and the machine's CPU metered around it. */
async function metered<T extends PhaseResult>(broker: number | null, run: () => Promise<T>): Promise<T & SharedCpu> {
  const b = new CpuMeter(broker);
  const m = new MachineCpuMeter();
  const t = performance.now();
  const r = await run();
  const brokerCpu = b.read();
  return { ...r, broker_cpu_seconds: brokerCpu, machine: machine(m, t, r.client_cpu_seconds, brokerCpu) };
}

async function ceiling(broker: number | null): Promise<CeilingResult> {
  const n = num('records');
  const valueBytes = num('value-bytes');
  const partitions = num('partitions');
  const src = `${RUN}.ceiling-src`;
  const copy = `${RUN}.ceiling-copy`;
  await createTopic(BROKERS, src, partitions);
  await createTopic(BROKERS, copy, partitions);
  // 1024 distinct random values: 1 MiB apart in a batch, beyond lz4's 64 KiB match window.
  const values = Array.from({ length: 1024 }, () => randomBytes(valueBytes));
  console.log(`# ceiling: ${n.toLocaleString('en-US')} records of ${valueBytes} B (random), ${partitions} partitions, topic ${src}`);

  const produce = await metered(broker, () => producePhase(BROKERS, src, n, values));
  console.error(`ceiling produce: ${produce.records_per_second.toLocaleString('en-US')} records/s`);
  const consume = await metered(broker, () => consumePhase(BROKERS, src, `${RUN}.ceiling-consume`, n, valueBytes));
  console.error(`ceiling consume: ${consume.records_per_second.toLocaleString('en-US')} records/s`);
  const transactional = await metered(broker, () => transactionalCopyPhase(BROKERS, src, copy, `${RUN}.ceiling-txn`, n, valueBytes));
  console.error(`ceiling transactional copy: ${transactional.records_per_second.toLocaleString('en-US')} records/s`);
  return { produce, consume, transactional };
}

// ── 2. Herald ──────────────────────────────────────────────────────────────────────────────

const { post } = jsonPoster(64);

/**
 * The isolated copy of the shipped topology: log topics and groups named `<RUN>.<name>`; with
 * --max-batch-records, every stage's max_batch_records replaced.
 */
function isolatedTopology(dir: string): string {
  let text = fs.readFileSync(path.join(ROOT, 'jobs/notifications.topology.yaml'), 'utf8').replace(/\bherald\.(publish|user|dlq|fanout|edge)\b/g, `${RUN}.$1`);
  if (opts['max-batch-records'] !== undefined) text = text.replace(/^(\s*max_batch_records:\s*)\d+/gm, `$1${num('max-batch-records')}`);
  const file = path.join(dir, 'topology.yaml');
  fs.writeFileSync(file, text);
  return file;
}

/** Subscriber lists: `topics` topics over `users` users, mean `fanout` distinct users each. */
function buildSubscriptions(users: number, topics: number, fanout: number, s: number, rand: () => number): number[][] {
  const weights = Array.from({ length: topics }, (_, r) => (s === 0 ? 1 : 1 / Math.pow(r + 1, s)));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => {
    const count = Math.max(1, Math.min(users, Math.round((w / total) * fanout * topics)));
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(Math.floor(rand() * users));
    return [...chosen];
  });
}

/** Opens a stream, retrying while no edge owns the user's partition yet (503/307). */
async function openStream(listener: SseListener, base: string, user: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await listener.open(base, user);
    } catch (err) {
      if (attempt >= 100) throw err;
      await sleep(200);
    }
  }
}

interface Counters {
  fanoutOut: number;
  edgeIn: number;
  sse: number;
}

async function counters(base: string, listener: SseListener): Promise<Counters> {
  const s = await scrapeAll(base);
  return { fanoutOut: sum(s, 'herald_stage_records_out_total', { stage: 'fanout' }), edgeIn: sum(s, 'herald_stage_records_in_total', { stage: 'edge' }), sse: listener.events };
}

/**
 * Publishes to `chosen` topics at `rate`/s (pool of --concurrency requests) for at most
 * `chosen.length / rate` seconds: when Herald answers too slowly to keep the rate, the publishes
 * not started by then are not sent (the run lasts the same time at any load). Returns which were
 * accepted, how many were issued and failed, and how many started more than 100 ms late.
 */
async function publishAtRate(base: string, chosen: number[], rate: number, bytes: number, onProgress: (done: number) => void): Promise<{ accepted: boolean[]; failed: number; late: number; issued: number; seconds: number; latencyMs: number[] }> {
  const accepted = chosen.map(() => false);
  const latencyMs: number[] = [];
  let failed = 0;
  let late = 0;
  let done = 0;
  const pad = 'x'.repeat(Math.max(0, bytes - 40));
  const t0 = performance.now();
  await pool(chosen.length, num('concurrency'), async (i) => {
    const wait = t0 + (i / rate) * 1000 - performance.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -100) late++;
    try {
      const sent = performance.now();
      await post(base, '/publish', { topic_id: `topic-${chosen[i]}`, message: { sent_at: Number(sent.toFixed(3)), pad } });
      latencyMs.push(performance.now() - sent);
      accepted[i] = true;
    } catch {
      failed++;
    }
    if (++done % 200 === 0) onProgress(done);
  }, { until: t0 + (chosen.length / rate) * 1000 });
  onProgress(done);
  return { accepted, failed, late, issued: done, seconds: (performance.now() - t0) / 1000, latencyMs };
}

/**
 * Polls the counters until the fan-out has written `expected` records past `base` and the edge
 * has read them (and the streams got `expectedSse` events), or nothing moved for `stallMs`.
 * @returns the times (performance clock) each was reached (the last change when stalled)
 */
async function drain(base: string, listener: SseListener, from: Counters, expected: number, expectedSse: number, bar: ProgressBar, stallMs = 10_000): Promise<{ now: Counters; fanoutAt: number; edgeAt: number; stalled: boolean }> {
  let fanoutAt = 0;
  let edgeAt = 0;
  let last = '';
  let lastChange = performance.now();
  for (;;) {
    const c = await counters(base, listener);
    const t = performance.now();
    const fan = c.fanoutOut - from.fanoutOut;
    const edge = c.edgeIn - from.edgeIn;
    bar.update(edge, 'deliveries');
    if (fanoutAt === 0 && fan >= expected) fanoutAt = t;
    if (edgeAt === 0 && edge >= expected) edgeAt = t;
    const key = `${fan}/${edge}/${c.sse}`;
    if (key !== last) {
      last = key;
      lastChange = t;
    }
    if (fanoutAt > 0 && edgeAt > 0 && c.sse - from.sse >= expectedSse) return { now: c, fanoutAt, edgeAt, stalled: false };
    if (t - lastChange > stallMs) return { now: c, fanoutAt: fanoutAt || lastChange, edgeAt: edgeAt || lastChange, stalled: true };
    await sleep(100);
  }
}

/** Sum of a histogram's `_sum` and `_count` between two scrapes, for label `labels`. */
function histogramDelta(a: Sample[], b: Sample[], name: string, labels: Record<string, string> = {}): { count: number; mean_ms: number | null } {
  const count = sum(b, `${name}_count`, labels) - sum(a, `${name}_count`, labels);
  const seconds = sum(b, `${name}_sum`, labels) - sum(a, `${name}_sum`, labels);
  return { count, mean_ms: count > 0 ? +((seconds / count) * 1000).toFixed(2) : null };
}

async function heraldPhase(broker: number | null, herald: HeraldTarget): Promise<Record<string, unknown>> {
  const base = herald.url;
  const users = num('users');
  const topics = num('topics');
  const fanout = num('fanout');
  const zipf = num('zipf');
  const streams = Math.min(num('streams'), users);
  const rate = num('rate');
  const duration = num('duration');
  const warmup = num('warmup');
  const bytes = num('message-bytes');
  const rand = prng(num('seed'));

  // Both groups own their 12 partitions before anything is measured.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await scrapeAll(base);
    const assigned = sum(s, 'herald_log_rebalance_partitions_total', { kind: 'assigned' }) - sum(s, 'herald_log_rebalance_partitions_total', { kind: 'revoked' });
    if (assigned >= 24) break;
    if (Date.now() > deadline) throw new Error(`herald: only ${assigned} of 24 partitions assigned after 60 s`);
    await sleep(100);
  }

  const subscribers = buildSubscriptions(users, topics, fanout, zipf, rand);
  const pairs = subscribers.flatMap((us, t) => us.map((u) => [t, u] as const));
  const bar = new ProgressBar('subscribe', pairs.length);
  let subscribed = 0;
  await pool(pairs.length, num('concurrency'), async (i) => {
    await post(base, '/subscribe', { topic_id: `topic-${pairs[i]![0]}`, user_id: `user-${pairs[i]![1]}` });
    if (++subscribed % 500 === 0) bar.update(subscribed, 'subscriptions');
  });
  bar.update(pairs.length, 'subscriptions');
  bar.done();
  const fanoutOf = subscribers.map((us) => us.length);
  const sseOf = subscribers.map((us) => us.filter((u) => u < streams).length);
  console.log(`# herald: ${users} users, ${topics} topics, ${zipf === 0 ? 'uniform' : `Zipf(${zipf})`} subscriber counts (max ${Math.max(...fanoutOf)}, min ${Math.min(...fanoutOf)}), ${pairs.length} subscriptions, mean fan-out ${(pairs.length / topics).toFixed(1)}`);

  const listener = new SseListener();
  listener.recordLatency = false;
  await pool(streams, 50, (i) => openStream(listener, base, `user-${i}`));
  console.log(`# ${streams} SSE streams open; ${rate} publishes/s for ${duration} s after ${warmup} s of warm-up`);

  try {
    // Warm-up (not measured): every path runs once, the JIT and the librdkafka connections are warm.
    const warm = Array.from({ length: Math.round(rate * warmup) }, () => Math.floor(rand() * topics));
    let from = await counters(base, listener);
    const w = await publishAtRate(base, warm, rate, bytes, () => {});
    const warmExpected = warm.reduce((a, t, i) => a + (w.accepted[i] ? fanoutOf[t]! : 0), 0);
    const warmSse = warm.reduce((a, t, i) => a + (w.accepted[i] ? sseOf[t]! : 0), 0);
    await drain(base, listener, from, warmExpected, warmSse, new ProgressBar('warm-up', warmExpected));

    // Idle: what Herald's connected consumers cost the broker and Herald with no traffic (their
    // fetch and heartbeat requests), and what the rest of the machine adds to the broker.
    const idleSeconds = 3;
    const idleHerald = new CpuMeter(herald.child?.pid);
    const idleBroker = new CpuMeter(broker);
    await sleep(idleSeconds * 1000);
    const idle = { seconds: idleSeconds, herald_cpu_seconds: idleHerald.read(), broker_cpu_seconds: idleBroker.read() };

    // Measured run.
    const chosen = Array.from({ length: Math.round(rate * duration) }, () => Math.floor(rand() * topics));
    const offered = chosen.reduce((a, t) => a + fanoutOf[t]!, 0);
    listener.recordLatency = true;
    from = await counters(base, listener);
    const before = await scrapeAll(base);
    const cpuHerald = new CpuMeter(herald.child?.pid);
    const cpuBroker = new CpuMeter(broker);
    const cpuSelf = process.cpuUsage();
    const cpuMachine = new MachineCpuMeter();
    const pubBar = new ProgressBar('publish', chosen.length);
    const t0 = performance.now();
    // Backlog (deliveries accepted but not yet read by the edge), sampled while publishing.
    let sampling = true;
    let maxBacklog = 0;
    let issued = 0;
    const sampler = (async () => {
      while (sampling) {
        await sleep(500);
        const c = await counters(base, listener).catch(() => null); // a failed scrape skips a sample
        if (c === null) continue;
        const due = chosen.slice(0, issued).reduce((a, t) => a + fanoutOf[t]!, 0);
        maxBacklog = Math.max(maxBacklog, due - (c.edgeIn - from.edgeIn));
      }
    })();
    const p = await publishAtRate(base, chosen, rate, bytes, (d) => {
      issued = d;
      pubBar.update(d, 'publishes');
    });
    pubBar.done();
    const tPublished = performance.now();
    sampling = false;
    await sampler;
    const atPublishEnd = await counters(base, listener);
    const expected = chosen.reduce((a, t, i) => a + (p.accepted[i] ? fanoutOf[t]! : 0), 0);
    const expectedSse = chosen.reduce((a, t, i) => a + (p.accepted[i] ? sseOf[t]! : 0), 0);
    const d = await drain(base, listener, from, expected, expectedSse, new ProgressBar('drain', expected));
    const tEnd = Math.max(d.fanoutAt, d.edgeAt);
    const self = process.cpuUsage(cpuSelf);
    const cpu = { herald: cpuHerald.read(), broker: cpuBroker.read(), bench: +((self.user + self.system) / 1e6).toFixed(2) };
    const machineCpu = machine(cpuMachine, t0, cpu.herald, cpu.broker, cpu.bench);
    const after = await scrapeAll(base);
    const lat = [...listener.latenciesMs].sort((a, b) => a - b);

    const delivered = d.now.fanoutOut - from.fanoutOut;
    const seconds = (tEnd - t0) / 1000;
    const accepted = p.accepted.filter(Boolean).length;
    const pubLat = p.latencyMs.sort((a, b) => a - b);
    const drainSeconds = (tEnd - tPublished) / 1000;
    // Kept up: the publishes went out at the rate and the edge read everything soon after.
    const keptUp = p.issued === chosen.length && accepted / p.seconds >= 0.95 * rate && drainSeconds <= 2 && !d.stalled;
    const committed = sum(after, 'herald_log_transactions_total', { result: 'committed' }) - sum(before, 'herald_log_transactions_total', { result: 'committed' });
    const fanIn = sum(after, 'herald_stage_records_in_total', { stage: 'fanout' }) - sum(before, 'herald_stage_records_in_total', { stage: 'fanout' });
    return {
      parameters: { users, topics, fanout, zipf, subscriptions: pairs.length, mean_fanout: pairs.length / topics, streams, rate, duration_s: duration, warmup_s: warmup, message_bytes: bytes, seed: num('seed'), worker_threads: process.env.HERALD_WORKER_THREADS ?? 'default', max_batch_records: opts['max-batch-records'] ?? 'topology (fanout 1000, edge 500)' },
      publishes: { planned: chosen.length, issued: p.issued, accepted, failed: p.failed, late_over_100ms: p.late, publish_seconds: +p.seconds.toFixed(3), accepted_per_second: +(accepted / p.seconds).toFixed(1), client_p50_ms: +percentile(pubLat, 50).toFixed(2), client_p99_ms: +percentile(pubLat, 99).toFixed(2) },
      deliveries: {
        offered_per_second: Math.round(offered / duration),
        expected,
        delivered_fanout_out: delivered,
        read_by_edge: d.now.edgeIn - from.edgeIn,
        seconds: +seconds.toFixed(3),
        deliveries_per_second: Math.round(delivered / seconds),
        stalled: d.stalled,
        kept_up: keptUp,
        backlog_max_while_publishing: maxBacklog,
        backlog_at_publish_end: expected - (atPublishEnd.edgeIn - from.edgeIn),
        drain_seconds_after_publish_end: +drainSeconds.toFixed(3),
      },
      sse: { expected: expectedSse, received: d.now.sse - from.sse, p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99), max_ms: lat.at(-1) ?? null },
      cpu_seconds: cpu,
      machine: machineCpu,
      idle_before_run: idle,
      stages: {
        fanout_records_in: fanIn,
        transactions_committed: committed,
        transactions_aborted: sum(after, 'herald_log_transactions_total', { result: 'aborted' }) - sum(before, 'herald_log_transactions_total', { result: 'aborted' }),
        deliveries_per_transaction: committed > 0 ? Math.round(delivered / committed) : null,
        transaction: histogramDelta(before, after, 'herald_log_transaction_duration_seconds'),
        fanout_batch: histogramDelta(before, after, 'herald_stage_batch_duration_seconds', { stage: 'fanout' }),
        fanout_record_age: histogramDelta(before, after, 'herald_stage_record_age_seconds', { stage: 'fanout' }),
        edge_record_age: histogramDelta(before, after, 'herald_stage_record_age_seconds', { stage: 'edge' }),
        publish_http: histogramDelta(before, after, 'herald_http_request_duration_seconds', { route: 'POST /publish' }),
        inbox_stored: sum(after, 'herald_inbox_stored_total') - sum(before, 'herald_inbox_stored_total'),
      },
    };
  } finally {
    listener.close();
  }
}

// ── 3. report ──────────────────────────────────────────────────────────────────────────────

function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

let interrupting = false;

/** Deletes every topic of this run (ceiling, Herald's logs and its dedup changelog all start with RUN), its groups and `tmp`. */
async function removeRun(groups: string[], tmp: string): Promise<Awaited<ReturnType<typeof deleteTopicsAndGroups>>> {
  fs.rmSync(tmp, { recursive: true, force: true });
  const admin = kafka().AdminClient.create({ 'bootstrap.servers': BROKERS, 'client.id': 'herald-bench-admin' });
  const all = await new Promise<string[]>((resolve) => admin.listTopics({ timeout: 30_000 }, (err, t) => resolve(err ? [] : t)));
  admin.disconnect();
  return deleteTopicsAndGroups(BROKERS, all.filter((t) => t.startsWith(`${RUN}.`)), groups);
}

async function main(): Promise<void> {
  printEnvironment('herald kafka: librdkafka ceiling vs Herald fan-out');
  kafka(); // fail early when the client is not built
  const broker = brokerPid();
  const loadBefore = os.loadavg().map((l) => +l.toFixed(2));
  console.log(`# broker ${BROKERS} (pid ${broker ?? 'unknown'}); run id ${RUN}; load average ${loadBefore.join(' ')} (other processes share the cores and the broker)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-kafka-bench-'));
  const groups = [...(opts['skip-ceiling'] ? [] : ['ceiling-consume', 'ceiling-txn']), ...(opts['skip-herald'] ? [] : ['fanout', 'edge'])].map((g) => `${RUN}.${g}`);
  let ceil: CeilingResult | null = null;
  let her: Record<string, any> | null = null;
  let cleanup: Awaited<ReturnType<typeof deleteTopicsAndGroups>> | null = null;
  const started = performance.now();
  // Ctrl-C: the Herald child gets the signal too and stops; delete the run's topics, then exit.
  let herald: HeraldTarget | null = null;
  const interrupted = () => {
    interrupting = true;
    void (async () => {
      await herald?.stop().catch(() => {}); // leaves its groups, so they can be deleted
      await removeRun(groups, tmp);
    })().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  try {
    if (!opts['skip-ceiling']) ceil = await ceiling(broker);
    if (!opts['skip-herald']) {
      const target = await heraldTarget(undefined, { HERALD_PROFILE: 'kafka', HERALD_KAFKA_BROKERS: BROKERS, HERALD_TOPOLOGY: isolatedTopology(tmp) });
      herald = target;
      try {
        her = await heraldPhase(broker, target);
      } finally {
        await target.stop();
      }
    }
  } finally {
    process.off('SIGINT', interrupted);
    cleanup = await removeRun(groups, tmp);
  }

  console.log('# results');
  const cores = os.availableParallelism();
  const others = (m: Machine) => (m.others_cpu_seconds === null ? '-' : `${Math.round((100 * m.others_cpu_seconds) / (m.wall_seconds * cores))}%`);
  const per1000 = (records: number, cpu: number | null) => (cpu === null || records === 0 ? null : +((cpu / records) * 1e6).toFixed(1));
  const row = (label: string, rps: number, mbps: number | null, sut: number | null, brk: number | null, m: Machine) =>
    console.log(`  ${label.padEnd(40)} ${fmt(rps).padStart(9)} ${fmt(mbps, 1).padStart(6)} ${fmt(sut, 1).padStart(11)} ${fmt(brk, 1).padStart(10)} ${others(m).padStart(8)}`);
  console.log(`  ${''.padEnd(40)} ${'records/s'.padStart(9)} ${'MB/s'.padStart(6)} ${'CPU ms/1k'.padStart(11)} ${'broker ms'.padStart(10)} ${'others'.padStart(8)}`);
  if (ceil) {
    for (const [label, r] of [
      ['ceiling produce (idempotent, lz4)', ceil.produce],
      ['ceiling consume (group, read_committed)', ceil.consume],
      [`ceiling transactional copy (${ceil.transactional.records_per_transaction}/txn)`, ceil.transactional],
    ] as const) {
      row(label, r.records_per_second, r.mb_per_second, per1000(r.records, r.client_cpu_seconds), per1000(r.records, r.broker_cpu_seconds), r.machine);
    }
  }
  if (her) {
    const d = her.deliveries;
    const cpu = her.cpu_seconds;
    row('herald fan-out deliveries', d.deliveries_per_second, null, per1000(d.delivered_fanout_out, cpu.herald), per1000(d.delivered_fanout_out, cpu.broker), her.machine);
    console.log(`  (CPU ms/1k: client or Herald process per 1000 records/deliveries; broker ms: the broker's per 1000; others: share of the ${cores} cores used by processes outside the benchmark)`);
    console.log(d.kept_up
      ? `  Herald kept up with ${her.parameters.rate} publishes/s (${fmt(d.offered_per_second)} deliveries/s offered): deliveries/s is the offered load, not its capacity`
      : `  SATURATED at ${her.parameters.rate} publishes/s (${fmt(d.offered_per_second)} deliveries/s offered): deliveries/s is Herald's capacity here, latency includes queueing`);
    console.log(`  publishes ${her.publishes.accepted}/${her.publishes.planned} accepted, ${fmt(her.publishes.accepted_per_second)}/s (${her.publishes.failed} failed; POST p50 ${fmt(her.publishes.client_p50_ms, 1)} ms, p99 ${fmt(her.publishes.client_p99_ms, 1)} ms); deliveries ${d.delivered_fanout_out}/${d.expected} in ${d.seconds} s${d.stalled ? ' (STALLED)' : ''}, drain ${d.drain_seconds_after_publish_end} s`);
    console.log(`  publish→SSE: ${her.sse.received}/${her.sse.expected} events, p50 ${fmt(her.sse.p50_ms, 1)} ms, p99 ${fmt(her.sse.p99_ms, 1)} ms`);
    const st = her.stages;
    console.log(`  ${st.transactions_committed} transactions (${st.deliveries_per_transaction} deliveries, ${st.transaction.mean_ms} ms each); record age when the fanout stage starts it ${st.fanout_record_age.mean_ms} ms, the edge ${st.edge_record_age.mean_ms} ms`);
    console.log(`  CPU s: herald ${cpu.herald}, broker ${cpu.broker}, load generator ${cpu.bench}, others ${her.machine.others_cpu_seconds} over ${her.machine.wall_seconds} s`);
  }
  const ratios: Record<string, number | null> = {};
  if (ceil && her) {
    const d = her.deliveries;
    const cpu = her.cpu_seconds;
    ratios.throughput_vs_produce = +(d.deliveries_per_second / ceil.produce.records_per_second).toFixed(4);
    ratios.throughput_vs_transactional = +(d.deliveries_per_second / ceil.transactional.records_per_second).toFixed(4);
    // Records per CPU-second (system under test + broker): does not depend on how much of the
    // machine other processes took during each phase.
    const costRatio = (r: PhaseResult & SharedCpu) =>
      r.broker_cpu_seconds === null || cpu.herald === null || cpu.broker === null ? null : +((r.client_cpu_seconds + r.broker_cpu_seconds) / r.records / ((cpu.herald + cpu.broker) / d.delivered_fanout_out)).toFixed(4);
    ratios.cpu_efficiency_vs_produce = costRatio(ceil.produce);
    ratios.cpu_efficiency_vs_transactional = costRatio(ceil.transactional);
    console.log(`  Herald ÷ ceiling, deliveries/s ÷ records/s: produce ${fmt(ratios.throughput_vs_produce, 3)}, transactional ${fmt(ratios.throughput_vs_transactional, 3)}; per CPU-second (+ broker): produce ${fmt(ratios.cpu_efficiency_vs_produce, 3)}, transactional ${fmt(ratios.cpu_efficiency_vs_transactional, 3)}`);
  }
  console.log(`# cleanup: deleted ${cleanup?.topics.length ?? 0} topics, ${cleanup?.groups.length ?? 0} groups${cleanup && cleanup.errors.length > 0 ? `; errors: ${cleanup.errors.join('; ')}` : ''}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  writeResult(opts.out!, {
    timestamp: new Date().toISOString(),
    broker: { bootstrap: BROKERS, run_id: RUN },
    load_average: { before: loadBefore, after: os.loadavg().map((l) => +l.toFixed(2)) },
    ceiling: ceil && { parameters: { records: num('records'), value_bytes: num('value-bytes'), value: 'random bytes', partitions: num('partitions'), producer: 'acks=all, enable.idempotence, lz4, linger.ms 5, murmur2_random partitioner', consumer: 'group, read_committed, consume(1000), async commit per batch', transactional: 'consume(1000) → begin → produce → sendOffsetsToTransaction → commit, serial' }, ...ceil },
    herald: her,
    ratios,
    cleanup,
  });
}

await main().catch((err: unknown) => {
  if (interrupting) return; // the SIGINT handler cleans up and exits
  throw err;
});
