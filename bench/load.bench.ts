/**
 * Load generator over real HTTP (`npm run load -- [options]`).
 *
 * Sources:
 *  - synthetic (default): U users, T topics whose subscriber counts follow Zipf(s) (rank r gets
 *    a share ∝ 1/r^s) with a mean fan-out F per publish; N publishes as fast as the edge takes
 *    them (throughput phase), then publishes at half that rate for D seconds (latency phase;
 *    `--rate R` skips the throughput phase and runs the latency phase at R publishes/s);
 *    M users hold open SSE streams.
 *  - replay (`--replay FILE`): a real event stream, one JSON object a line
 *    `{"ts","topic_id","actor_id","kind","size_bytes"}` in ts order. Each event is published to its
 *    topic (or to the prefix before `:` with `--topic-prefix`) with a message of its size, then its
 *    actor subscribes to that topic (watchers from their first event on); time compressed by
 *    `--speed`. The M busiest actors hold open SSE streams.
 *
 * Prints deliveries/s (inbox + SSE), publish→SSE latency p50/p99, the server's peak RSS, with a
 * progress bar, and writes bench/results/load-<source>.json. Unless `--url` is given, it starts
 * Herald in a child process on a fresh data dir (the benchmark never shares a process with it).
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { heraldTarget, scrapeMetric } from './lib/herald-target.ts';
import { ProgressBar } from './lib/progress.ts';
import { percentile, printEnvironment, target, writeResult } from './lib/report.ts';
import { SseListener } from './lib/sse-listener.ts';
import { jsonPoster, pool } from './lib/http-client.ts';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    users: { type: 'string', default: '10000' },
    topics: { type: 'string', default: '1000' },
    zipf: { type: 'string', default: '1.0' },
    fanout: { type: 'string', default: '50' },
    publishes: { type: 'string', default: '20000' },
    streams: { type: 'string', default: '1000' },
    'message-bytes': { type: 'string', default: '1024' },
    'latency-seconds': { type: 'string', default: '10' },
    rate: { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    replay: { type: 'string' },
    speed: { type: 'string', default: '1000' },
    limit: { type: 'string' },
    'topic-prefix': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

const num = (name: keyof typeof opts): number => {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number (got ${String(opts[name])})`);
  return v;
};

const { post } = jsonPoster(num('concurrency'));

/** A message of about `bytes` bytes (JSON) carrying the send time for latency. */
function message(bytes: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const m: Record<string, unknown> = { sent_at: Number(performance.now().toFixed(3)), ...extra, pad: '' };
  const size = Buffer.byteLength(JSON.stringify(m));
  m.pad = 'x'.repeat(Math.max(0, bytes - size));
  return m;
}

/** Waits until the inbox has stored `expected` more notifications than `baseline`, or it stops growing. */
async function waitForDeliveries(base: string, baseline: number, expected: number | null, bar: ProgressBar, stallMs = 5_000): Promise<{ delivered: number; endedAt: number }> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const delivered = (await scrapeMetric(base, 'herald_inbox_stored_total')) - baseline;
    bar.update(delivered, 'deliveries');
    const now = performance.now();
    if (delivered !== last) {
      last = delivered;
      lastChange = now;
    }
    if (expected !== null && delivered >= expected) return { delivered, endedAt: now };
    if (now - lastChange > stallMs) return { delivered, endedAt: lastChange };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Samples the server's RSS until stopped; returns the peak, bytes. */
function rssSampler(base: string): { stop: () => Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await scrapeMetric(base, 'herald_process_resident_memory_bytes').catch(() => 0));
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}

async function synthetic(base: string): Promise<Record<string, unknown>> {
  const users = num('users');
  const topics = num('topics');
  const s = num('zipf');
  const fanout = num('fanout');
  const publishes = num('publishes');
  const streams = Math.min(num('streams'), users);
  const concurrency = num('concurrency');
  const bytes = num('message-bytes');

  // Zipf(s) subscriber counts with mean fan-out `fanout` for uniformly chosen topics.
  const weights = Array.from({ length: topics }, (_, r) => 1 / Math.pow(r + 1, s));
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.max(1, Math.min(users, Math.round((w / total) * fanout * topics))));
  const subscribers: number[][] = counts.map((c) => {
    const start = Math.floor(Math.random() * users);
    const stride = 1 + 2 * Math.floor(Math.random() * 50); // odd: distinct users when users is even
    return Array.from({ length: c }, (_, k) => (start + k * stride) % users);
  });
  const pairs: [number, number][] = [];
  subscribers.forEach((us, t) => us.forEach((u) => pairs.push([t, u])));
  const unique = new Set(pairs.map(([t, u]) => `${t}/${u}`));
  console.log(`# synthetic: ${users} users, ${topics} topics, Zipf(${s}) subscriber counts (max ${counts[0]}, min ${counts.at(-1)}), ${unique.size} subscriptions, mean fan-out ${(unique.size / topics).toFixed(1)}`);

  let bar = new ProgressBar('subscribe', pairs.length);
  await pool(pairs.length, concurrency, async (i) => {
    const [t, u] = pairs[i]!;
    await post(base, '/subscribe', { topic_id: `topic-${t}`, user_id: `user-${u}` });
  }, { onDone: (d) => d % 500 === 0 && bar.update(d, 'subscriptions') });
  bar.update(pairs.length, 'subscriptions');
  bar.done();
  const fanoutOf = subscribers.map((us) => new Set(us).size);

  const listener = new SseListener();
  listener.recordLatency = false;
  await pool(streams, 100, (i) => listener.open(base, `user-${i}`));
  console.log(`# ${streams} SSE streams open`);

  // Throughput phase (skipped with --rate).
  const rss = rssSampler(base);
  const baseline = await scrapeMetric(base, 'herald_inbox_stored_total');
  const chosen = Array.from({ length: opts.rate ? 0 : publishes }, () => Math.floor(Math.random() * topics));
  const expected = chosen.reduce((a, t) => a + fanoutOf[t]!, 0);
  bar = new ProgressBar('throughput', expected);
  const t0 = performance.now();
  let published = 0;
  const publishing = pool(publishes, concurrency, async (i) => {
    await post(base, '/publish', { topic_id: `topic-${chosen[i]}`, message: message(bytes) });
    published++;
  });
  const progress = waitForDeliveries(base, baseline, expected, bar, 15_000);
  await publishing;
  const publishSeconds = (performance.now() - t0) / 1000;
  const { delivered, endedAt } = await progress;
  bar.done();
  const seconds = Math.max(1e-3, (endedAt - t0) / 1000);
  const deliveriesPerSecond = delivered / seconds;
  const publishesPerSecond = published / seconds;

  // Latency phase at half the sustained load, or at --rate.
  const rate = opts.rate ? num('rate') : publishesPerSecond / 2;
  const latencySeconds = num('latency-seconds');
  const count = Math.max(1, Math.round(rate * latencySeconds));
  listener.recordLatency = true;
  const base2 = await scrapeMetric(base, 'herald_inbox_stored_total');
  const expected2 = Array.from({ length: count }, () => Math.floor(Math.random() * topics));
  bar = new ProgressBar('latency', count);
  const t1 = performance.now();
  await pool(count, concurrency, async (i) => {
    const due = t1 + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await post(base, '/publish', { topic_id: `topic-${expected2[i]}`, message: message(bytes) });
  }, { onDone: (d) => d % 100 === 0 && bar.update(d, 'publishes') });
  bar.done();
  await waitForDeliveries(base, base2, expected2.reduce((a, t) => a + fanoutOf[t]!, 0), new ProgressBar('drain', 1), 5_000);
  const peakRss = await rss.stop();
  listener.close();
  const lat = [...listener.latenciesMs].sort((a, b) => a - b);

  console.log('# results');
  const targets = [
    ...(opts.rate ? [] : [target('deliveries/s (inbox + SSE), throughput phase', deliveriesPerSecond, 50_000, 'deliveries/s')]),
    target(opts.rate ? `publish→SSE p99 at ${rate} publishes/s` : 'publish→SSE p99 at half load', percentile(lat, 99), 50, 'ms', false),
  ];
  if (!opts.rate) console.log(`  publishes/s accepted: ${Math.round(published / publishSeconds)}; deliveries ${delivered}/${expected} in ${seconds.toFixed(1)} s`);
  console.log(`  latency phase: ${count} publishes at ${rate.toFixed(0)}/s; SSE events ${lat.length}; p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms; peak server RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  return {
    source: 'synthetic',
    parameters: { users, topics, zipf: s, fanout, publishes, streams, message_bytes: bytes, subscriptions: unique.size },
    throughput: { published, expected_deliveries: expected, delivered, seconds, deliveries_per_second: deliveriesPerSecond, publishes_per_second: publishesPerSecond },
    latency: { publishes: count, rate_per_second: rate, sse_events: lat.length, p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99), max_ms: lat.at(-1) ?? null },
    peak_rss_bytes: peakRss,
    targets,
  };
}

interface ReplayEvent {
  ts: string;
  topic_id: string;
  actor_id: string;
  kind: string;
  size_bytes: number;
}

async function replay(base: string, file: string): Promise<Record<string, unknown>> {
  const speed = num('speed');
  const limit = opts.limit ? num('limit') : Infinity;
  const prefix = opts['topic-prefix'];
  const concurrency = num('concurrency');
  const events: ReplayEvent[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    events.push(JSON.parse(line) as ReplayEvent);
    if (events.length >= limit) break;
  }
  rl.close();
  const topicOf = (e: ReplayEvent) => (prefix ? e.topic_id.split(':')[0]! : e.topic_id);
  const activity = new Map<string, number>();
  for (const e of events) activity.set(e.actor_id, (activity.get(e.actor_id) ?? 0) + 1);
  const streamActors = [...activity.entries()].sort((a, b) => b[1] - a[1]).slice(0, num('streams')).map(([a]) => a);
  const t0Event = Date.parse(events[0]!.ts);
  const spanMs = Date.parse(events.at(-1)!.ts) - t0Event;
  console.log(`# replay ${file}: ${events.length} events, ${activity.size} actors, span ${(spanMs / 1000).toFixed(0)} s, speed ×${speed} → ${(spanMs / speed / 1000).toFixed(1)} s; topics ${prefix ? 'by prefix' : 'by page'}; ${streamActors.length} streams`);

  const listener = new SseListener();
  await pool(streamActors.length, 100, (i) => listener.open(base, streamActors[i]!));

  // Client-side model of the watchers, for the expected number of deliveries. Herald's publish
  // API has no notion of the publishing actor, so an actor already watching a topic receives its
  // own later events too (the data README's rule excludes them: printed for comparison).
  const watchers = new Map<string, Set<string>>();
  let expected = 0;
  let excludingActor = 0;
  for (const e of events) {
    const t = topicOf(e);
    const w = watchers.get(t) ?? new Set<string>();
    expected += w.size;
    excludingActor += w.size - (w.has(e.actor_id) ? 1 : 0);
    w.add(e.actor_id);
    watchers.set(t, w);
  }

  const rss = rssSampler(base);
  const baseline = await scrapeMetric(base, 'herald_inbox_stored_total');
  const subscribed = new Set<string>();
  const bar = new ProgressBar('replay', events.length);
  const t0 = performance.now();
  let late = 0;
  await pool(events.length, concurrency, async (i) => {
    const e = events[i]!;
    const due = t0 + (Date.parse(e.ts) - t0Event) / speed;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -100) late++;
    const topic = topicOf(e);
    await post(base, '/publish', { topic_id: topic, message: message(e.size_bytes, { kind: e.kind, actor: e.actor_id }) });
    const sub = `${topic}\u0000${e.actor_id}`;
    if (!subscribed.has(sub)) {
      subscribed.add(sub);
      await post(base, '/subscribe', { topic_id: topic, user_id: e.actor_id });
    }
  }, { onDone: (d) => d % 200 === 0 && bar.update(d, 'events') });
  bar.update(events.length, 'events');
  bar.done();
  const { delivered, endedAt } = await waitForDeliveries(base, baseline, expected, new ProgressBar('drain', expected), 5_000);
  const peakRss = await rss.stop();
  listener.close();
  const seconds = (endedAt - t0) / 1000;
  const lat = [...listener.latenciesMs].sort((a, b) => a - b);
  console.log('# results');
  console.log(`  events ${events.length} in ${seconds.toFixed(1)} s (${late} published >100 ms late); deliveries ${delivered} (model: ${expected}; ${excludingActor} without the actor's own events); ${(delivered / seconds).toFixed(0)} deliveries/s`);
  console.log(`  SSE events ${listener.events}; publish→SSE p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms; peak server RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  return {
    source: 'replay',
    parameters: { file, events: events.length, speed, topic_prefix: prefix, streams: streamActors.length, concurrency },
    throughput: { seconds, delivered, expected_deliveries: expected, expected_excluding_actor: excludingActor, deliveries_per_second: delivered / seconds, late_publishes: late, subscriptions: subscribed.size },
    latency: { sse_events: lat.length, p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99), max_ms: lat.at(-1) ?? null },
    peak_rss_bytes: peakRss,
  };
}

async function main(): Promise<void> {
  printEnvironment(`herald load (${opts.replay ? 'replay' : 'synthetic'})`);
  const herald = await heraldTarget(opts.url);
  try {
    const result = opts.replay ? await replay(herald.url, opts.replay) : await synthetic(herald.url);
    writeResult(opts.out ?? (opts.replay ? `load-replay${opts['topic-prefix'] ? '-prefix' : ''}` : 'load-synthetic'), result);
  } finally {
    await herald.stop();
  }
}

await main();
