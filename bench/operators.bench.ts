/**
 * Benchmark of the fan-out operators and their worker-thread runtime, in isolation (no HTTP, no
 * log): each operator on one core, the Bloom filter, the whole chain on a piscina worker (with
 * in-memory store fakes and with the SQLite stores), and the cost of offloading a batch to a
 * worker and back. Each scenario runs in a fresh child process (no JIT or heap shared between
 * scenarios); each warms up before it measures.
 *
 * Data: 2,000 topics with 1 to 40 subscribers each (mean ≈ 10) among 100,000 users, topics chosen
 * Zipf-like (s = 1), messages of ~120 bytes of JSON, half the publishes with an Idempotency-Key.
 *
 * Usage:  node bench/operators.bench.ts                      (all scenarios, writes bench/results/operators.json)
 *         node bench/operators.bench.ts --scenario <name>    (one scenario, JSON on the last line)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { PublishRecord } from '../core/types.ts';
import { RecordsEncoder, type EncodedRecords } from '../log/record-codec.ts';
import { BloomFilter } from '../operators/bloom-dedup/bloom-filter.ts';
import { parseBloomDedupOptions } from '../operators/bloom-dedup/options.ts';
import { WindowedBloomFilter } from '../operators/bloom-dedup/windowed-bloom-filter.ts';
import { windowedOptionsOf } from '../operators/bloom-dedup/state.ts';
import { buildChain, runChain } from '../operators/runtime/chain.ts';
import { decodePublishRecords } from '../operators/runtime/decode-publish-record.ts';
import { createOperatorPool } from '../operators/runtime/operator-pool.ts';
import { createPartitionState } from '../operators/runtime/partition-state.ts';
import type { OperatorTask, OperatorTaskResult } from '../operators/task.ts';
import type { BatchCollector, BatchContext, OperatorStores } from '../operators/types.ts';
import type { CompiledStage } from '../topology/types.ts';
import { loadTopology } from '../topology/index.ts';
import { MemoryDedupStore, MemorySubscriptionStore, type MemorySeed } from '../test/unit/operators/fixtures/memory-stores.ts';
import { environment, printEnvironment, target, writeResult } from './lib/report.ts';
import { seededRandom as rng } from './lib/prng.ts';

const T0 = Date.UTC(2026, 10, 29, 15, 0, 0);
const USER_LOG = 'herald.user';
const TOPICS = 2_000;
const USERS = 100_000;
const BATCH = 1_000; // records per batch: max_batch_records of the default topology
const DEFAULT_TOPOLOGY = await loadTopology(fileURLToPath(new URL('../jobs/notifications.topology.yaml', import.meta.url)));
const MEMORY_STORES = new URL('../test/unit/operators/fixtures/memory-stores.ts', import.meta.url);

/** The fanout stage of jobs/notifications.topology.yaml, compiled from the file itself. */
const FANOUT_STAGE: CompiledStage = (() => {
  const stage = DEFAULT_TOPOLOGY.stages.find((s) => s.name === 'fanout');
  if (stage === undefined) throw new Error('jobs/notifications.topology.yaml has no fanout stage');
  return stage;
})();

function fanoutStage(): CompiledStage {
  return FANOUT_STAGE;
}


const random = rng(42);
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

function uuidV7(ms: number): string {
  const t = ms.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8)}-7${hex(3)}-${'89ab'[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`;
}

/** Subscriptions of every topic: 1..40 subscribers (mean ≈ 10), subscribed before T0. */
function subscriptions(): Record<string, { user_id: string; subscribed_at: number }[]> {
  const out: Record<string, { user_id: string; subscribed_at: number }[]> = {};
  for (let t = 0; t < TOPICS; t++) {
    const n = Math.max(1, Math.min(40, Math.round(-Math.log(1 - random()) * 10)));
    const users = new Set<string>();
    while (users.size < n) users.add(`user-${Math.floor(random() * USERS)}`);
    out[`topic-${t}`] = [...users].sort().map((user_id) => ({ user_id, subscribed_at: T0 - 86_400_000 }));
  }
  return out;
}

/** Zipf-like topic choice (s = 1) by inverse CDF over a precomputed table. */
const zipf = (() => {
  const cdf = new Float64Array(TOPICS);
  let sum = 0;
  for (let i = 0; i < TOPICS; i++) cdf[i] = sum += 1 / (i + 1);
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = TOPICS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
})();

let published = 0;
/** One batch of `n` publish records (distinct ids and idempotency keys), framed like the publish log. */
function publishBatch(n: number): EncodedRecords {
  const enc = new RecordsEncoder(n * 300);
  for (let i = 0; i < n; i++) {
    const ms = T0 + published++;
    const topic = `topic-${zipf()}`;
    const record: PublishRecord = {
      id: uuidV7(ms),
      topic_id: topic,
      message: { title: 'Build finished', body: `Pipeline #${published} passed in 4m12s on main`, url: 'https://ci.example.com/p/1' },
      published_at: new Date(ms).toISOString(),
      idempotency_key: random() < 0.5 ? `${hex(8)}-${hex(4)}-${hex(4)}-${hex(12)}` : null,
    };
    enc.add(topic, JSON.stringify(record), 0, ms, published);
  }
  return enc.finish();
}

/** `count` batches generated up front (data generation is not measured). */
function batches(count: number, size = BATCH): EncodedRecords[] {
  return Array.from({ length: count }, () => publishBatch(size));
}

function emptyCollector(): BatchCollector {
  return { deadLetters: [], confirmations: [], outputs: [], stats: { recordsIn: 0, recordsOut: 0, duplicates: 0, bloomPositives: 0, bloomFalsePositives: 0, workerMs: 0 } };
}

function memoryStores(seed: MemorySeed['subscriptions']): OperatorStores {
  const subscriptionStore = new MemorySubscriptionStore();
  for (const [topic, list] of Object.entries(seed)) subscriptionStore.topics.set(topic, list);
  return { subscriptions: subscriptionStore, dedup: new MemoryDedupStore() };
}

/** Realistic dedup keys: topic_id NUL idempotency key (UUID-shaped). */
function dedupKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `topic-${i % TOPICS}\u0000${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`);
}

// ── scenarios ─────────────────────────────────────────────────────────────────────────────────

/** Bloom filter: bits/key, measured FP rate, test-and-set ops/s (single filter and windowed). */
async function bloomScenario(): Promise<Record<string, unknown>> {
  const n = 100_000;
  const p = 0.001;
  const keys = dedupKeys(1_200_000);
  const absent = dedupKeys(1_000_000);

  const warm = BloomFilter.create(n, p);
  for (let r = 0; r < 5; r++) for (let i = 0; i < 200_000; i++) warm.testAndAdd(keys[i]!);

  const filter = BloomFilter.create(n, p);
  for (let i = 0; i < n; i++) filter.testAndAdd(keys[i]!);
  let fp = 0;
  for (const k of absent) if (filter.has(k)) fp++;

  // ops/s: test-and-set of a stream of distinct keys into filters at capacity (fresh one per n keys).
  let ops = 0;
  const started = performance.now();
  for (let round = 0; performance.now() - started < 2_000; round++) {
    const f = BloomFilter.create(n, p);
    const base = (round % 10) * n;
    for (let i = 0; i < n; i++) f.testAndAdd(keys[base + i]!);
    ops += n;
  }
  const bloomOpsPerSec = ops / ((performance.now() - started) / 1_000);

  // The operator's windowed filter with the default options (6 windows of 100k keys at 0.1%).
  const options = windowedOptionsOf(parseBloomDedupOptions({}));
  const windowed = WindowedBloomFilter.create(options);
  windowed.advanceTo(T0);
  for (let i = 0; i < 200_000; i++) windowed.testAndAdd(keys[i]!);
  windowed.clear();
  windowed.advanceTo(T0);
  let wops = 0;
  const wStarted = performance.now();
  while (performance.now() - wStarted < 2_000) {
    for (let i = 0; i < 1_200_000; i++) windowed.testAndAdd(keys[i]!);
    wops += 1_200_000;
  }
  const windowedOpsPerSec = wops / ((performance.now() - wStarted) / 1_000);
  windowed.clear();
  windowed.advanceTo(T0);
  for (let i = 0; i < 6 * n; i++) windowed.testAndAdd(keys[i]!);
  let wfp = 0;
  for (const k of absent) if (windowed.has(k)) wfp++;

  return {
    expected_keys: n,
    target_false_positive_rate: p,
    bits_per_key: filter.bits / n,
    hashes: filter.hashes,
    measured_false_positive_rate: fp / absent.length,
    test_and_set_ops_per_sec: bloomOpsPerSec,
    windowed: {
      windows: options.windows,
      bytes: windowed.bytes,
      bits_per_key: (windowed.bytes * 8) / (options.windows * n),
      test_and_set_ops_per_sec: windowedOpsPerSec,
      measured_false_positive_rate_all_windows_full: wfp / absent.length,
    },
  };
}

/** Each operator alone on the main thread (one core), in-memory stores, batches of 1000. */
async function operatorsScenario(): Promise<Record<string, unknown>> {
  const stage = fanoutStage();
  const stores = memoryStores(subscriptions());
  const chain = await buildChain(stage, stores);
  const state = await createPartitionState(stage, 0, stores.dedup, T0);
  const data = batches(300);
  const timeOf = { decode: 0, 'subscription-join': 0, 'bloom-dedup': 0, 'user-repartition': 0, routing: 0 } as Record<string, number>;
  let inRecords = 0;
  let outRecords = 0;
  const run = async (measure: boolean) => {
    for (const encoded of data) {
      const collector = emptyCollector();
      let t = performance.now();
      let batch = decodePublishRecords(encoded, collector);
      if (measure) timeOf.decode! += performance.now() - t;
      const context: BatchContext = { partition: 0, nowMs: T0, state: undefined, partitionCounts: { [USER_LOG]: 12 }, collector };
      for (const { node, operator } of chain.operators) {
        context.state = state[node.name];
        t = performance.now();
        batch = await operator.process(batch, context);
        if (measure) timeOf[node.type]! += performance.now() - t;
      }
      t = performance.now();
      for (const sink of chain.sinks) await sink.write(batch, context);
      if (measure) {
        timeOf.routing! += performance.now() - t;
        inRecords += collector.stats.recordsIn;
        outRecords += collector.stats.recordsOut;
      }
    }
  };
  await run(false); // warm-up (also fills the Bloom windows: the measured pass is all new keys again)
  const fresh = await createPartitionState(stage, 0, stores.dedup, T0);
  Object.assign(state, fresh);
  await run(true);
  const perSec: Record<string, number> = {};
  for (const [name, ms] of Object.entries(timeOf)) perSec[name] = inRecords / (ms / 1_000);
  const totalMs = Object.values(timeOf).reduce((a, b) => a + b, 0);

  // The whole chain through runChain (what a worker does per task), same core.
  const tasks = data.map((records) => ({ stage, partition: 0, records, state, stores: { subscriptions: { kind: 'sqlite', path: '' }, dedup: { kind: 'sqlite', path: '' } }, nowMs: T0, partitionCounts: { [USER_LOG]: 12 } }) as OperatorTask);
  Object.assign(state, await createPartitionState(stage, 0, stores.dedup, T0));
  let chainIn = 0;
  let chainOut = 0;
  const started = performance.now();
  for (const task of tasks) {
    const r = await runChain(chain, task);
    chainIn += r.stats.recordsIn;
    chainOut += r.stats.recordsOut;
  }
  const chainSec = (performance.now() - started) / 1_000;
  return {
    batch_records: BATCH,
    fan_out: outRecords / inRecords,
    input_records_per_sec_by_operator: perSec,
    chain_sum_input_records_per_sec: inRecords / (totalMs / 1_000),
    run_chain_input_records_per_sec: chainIn / chainSec,
    run_chain_output_records_per_sec: chainOut / chainSec,
  };
}

/** Tasks through a one-thread pool; per-core throughput from the time spent in the worker. */
async function poolRun(storesModule: URL | undefined, storeSpecs: OperatorTask['stores'], dedupForState: MemoryDedupStore, count: number, inFlight: number): Promise<Record<string, number>> {
  const stage = fanoutStage();
  const pool = createOperatorPool({ threads: 1, ...(storesModule ? { storesModule } : {}) });
  try {
    const state = await createPartitionState(stage, 0, dedupForState, T0);
    const mk = (records: EncodedRecords): OperatorTask => ({ stage, partition: 0, records, state, stores: storeSpecs, nowMs: T0, partitionCounts: { [USER_LOG]: 12 } });
    for (const b of batches(100)) await pool.run(mk(b)); // warm-up
    const data = batches(count);
    let inRecords = 0;
    let outRecords = 0;
    let workerMs = 0;
    let offloadMs = 0;
    const started = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < data.length) {
        const records = data[next++]!;
        const t = performance.now();
        const r: OperatorTaskResult = await pool.run(mk(records));
        offloadMs += performance.now() - t - r.stats.workerMs;
        inRecords += r.stats.recordsIn;
        outRecords += r.stats.recordsOut;
        workerMs += r.stats.workerMs;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    const wallSec = (performance.now() - started) / 1_000;
    return {
      input_records_per_sec_per_core: inRecords / (workerMs / 1_000),
      output_records_per_sec_per_core: outRecords / (workerMs / 1_000),
      input_records_per_sec_wall_one_thread: inRecords / wallSec,
      output_records_per_sec_wall_one_thread: outRecords / wallSec,
      pool_utilization: pool.stats().utilization,
      ...(inFlight === 1 ? { offload_us_per_record: (offloadMs * 1_000) / inRecords } : {}),
    };
  } finally {
    await pool.close();
  }
}

/** The whole chain on a piscina worker with the in-memory store fakes. */
async function chainMemoryScenario(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-ops-'));
  try {
    const seed = join(dir, 'seed.json');
    writeFileSync(seed, JSON.stringify({ subscriptions: subscriptions() } satisfies MemorySeed));
    const specs: OperatorTask['stores'] = { subscriptions: { kind: 'sqlite', path: seed }, dedup: { kind: 'sqlite', path: seed } };
    return {
      stores: 'in-memory fakes (test/unit/operators/fixtures/memory-stores.ts)',
      sequential: await poolRun(MEMORY_STORES, specs, new MemoryDedupStore(), 400, 1),
      two_in_flight: await poolRun(MEMORY_STORES, specs, new MemoryDedupStore(), 400, 2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The whole chain on a piscina worker with the SQLite stores (the worker opens them read-only). */
async function chainSqliteScenario(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-ops-sqlite-'));
  try {
    const sqlite = await import('../stores/sqlite/index.ts');
    const subsPath = join(dir, 'subscriptions.db');
    const dedupPath = join(dir, 'dedup.db');
    const subs = await sqlite.openSqliteSubscriptionStore({ path: subsPath });
    for (const [topic, list] of Object.entries(subscriptions())) for (const s of list) await subs.subscribe(topic, s.user_id, s.subscribed_at);
    await subs.close();
    const dedup = await sqlite.openSqliteDedupStore({ path: dedupPath });
    await dedup.close();
    const specs: OperatorTask['stores'] = { subscriptions: { kind: 'sqlite', path: subsPath }, dedup: { kind: 'sqlite', path: dedupPath } };
    return { stores: 'SQLite (stores/sqlite, better-sqlite3), opened read-only in the worker', sequential: await poolRun(undefined, specs, new MemoryDedupStore(), 200, 1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Cost of sending a batch to a worker and back (round trip minus time inside the worker), by batch size. */
async function offloadScenario(): Promise<Record<string, unknown>> {
  const stage: CompiledStage = { ...fanoutStage(), name: 'echo', operators: [], sinks: [] };
  const pool = createOperatorPool({ threads: 1, storesModule: MEMORY_STORES });
  const specs: OperatorTask['stores'] = { subscriptions: { kind: 'sqlite', path: '/nonexistent' }, dedup: { kind: 'sqlite', path: '/nonexistent' } };
  const bySize: Record<string, { us_per_record: number; us_per_batch: number }> = {};
  try {
    for (const size of [10, 100, 1_000, 5_000]) {
      const n = Math.max(50, Math.min(2_000, Math.round(200_000 / size)));
      const data = batches(n + 50, size);
      const samples: number[] = [];
      for (let i = 0; i < data.length; i++) {
        const t = performance.now();
        const r = await pool.run({ stage, partition: 0, records: data[i]!, state: {}, stores: specs, nowMs: T0, partitionCounts: {} });
        if (i >= 50) samples.push(performance.now() - t - r.stats.workerMs);
      }
      samples.sort((a, b) => a - b);
      const median = samples[samples.length >> 1]!;
      bySize[size] = { us_per_record: (median * 1_000) / size, us_per_batch: median * 1_000 };
    }
  } finally {
    await pool.close();
  }
  return { by_batch_size: bySize };
}

const SCENARIOS: Record<string, () => Promise<Record<string, unknown>>> = {
  bloom: bloomScenario,
  operators: operatorsScenario,
  'chain-memory': chainMemoryScenario,
  'chain-sqlite': chainSqliteScenario,
  offload: offloadScenario,
};

// ── driver ────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const at = process.argv.indexOf('--scenario');
  if (at >= 0) {
    const name = process.argv[at + 1] ?? '';
    const scenario = SCENARIOS[name];
    if (scenario === undefined) throw new Error(`unknown scenario ${name}; one of ${Object.keys(SCENARIOS).join(', ')}`);
    console.log(JSON.stringify(await scenario()));
    return;
  }
  printEnvironment('operators: fan-out operators and their piscina runtime, in isolation');
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, Record<string, any>> = {};
  for (const name of Object.keys(SCENARIOS)) {
    const child = spawnSync(process.execPath, [self, '--scenario', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
    if (child.status !== 0) throw new Error(`scenario ${name} failed with status ${child.status}`);
    const lines = child.stdout.trim().split('\n');
    results[name] = JSON.parse(lines[lines.length - 1]!);
    console.log(`## ${name}: ${lines[lines.length - 1]}`);
  }
  const b = results.bloom!;
  const ops = results.operators!;
  const mem = results['chain-memory']!;
  const off = results.offload!.by_batch_size as Record<string, { us_per_record: number }>;
  console.log('# targets');
  const targets = [
    target('fan-out chain on a worker, input rec/s/core', mem.sequential.input_records_per_sec_per_core, 200_000, 'records/s'),
    target('fan-out chain on a worker, output rec/s/core', mem.sequential.output_records_per_sec_per_core, 200_000, 'records/s'),
    target('Bloom test-and-set (single filter, 0.1%)', b.test_and_set_ops_per_sec, 3_000_000, 'ops/s'),
    target('Bloom test-and-set (6 windows, defaults)', b.windowed.test_and_set_ops_per_sec, 3_000_000, 'ops/s'),
    target('Bloom bits per key at 0.1% FP', b.bits_per_key, 15, 'bits/key', false),
    target('Bloom measured FP rate (target 0.1%)', b.measured_false_positive_rate, 0.0015, 'ratio', false),
    target('offload per record, batch 1000', off['1000']!.us_per_record, 0.2, 'µs/record', false),
  ];
  console.log('# more figures (no target)');
  for (const [name, v] of Object.entries(ops.input_records_per_sec_by_operator as Record<string, number>)) console.log(`  ${`operator ${name} (input rec/s, one core)`.padEnd(44)} ${Math.round(v).toLocaleString('en-US').padStart(14)}`);
  console.log(`  ${'chain with SQLite stores, input rec/s/core'.padEnd(44)} ${Math.round(results['chain-sqlite']!.sequential.input_records_per_sec_per_core).toLocaleString('en-US').padStart(14)}`);
  for (const [size, v] of Object.entries(off)) console.log(`  ${`offload per record, batch ${size}`.padEnd(44)} ${v.us_per_record.toPrecision(3).padStart(14)} µs`);
  writeResult('operators', { node: environment().node, stores: 'in-memory fakes; chain-sqlite uses stores/sqlite', targets, scenarios: results });
}

await main();
