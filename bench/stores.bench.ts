/**
 * Benchmark of the embedded (SQLite) stores. Each scenario runs in a fresh child process (no
 * shared heap, page cache of its own database files), warms up, then measures:
 *
 *   subscribers-of   SubscriptionStore.subscribersOf, batches of 500 topics (Zipf-like sizes)
 *   inbox-append     InboxStore.append, batches of 1,000 entries (~200-byte JSON messages)
 *   inbox-list       InboxStore.list latency, limit 100: first page and deep cursor pages
 *   inbox-read-after InboxStore.readAfter latency, limit 100 (SSE resume)
 *   dedup-confirmed  DedupStore.confirmed, batches of 500 keys (half confirmed)
 *
 * With HERALD_MYSQL_URL / HERALD_REDIS_URL set (`eval "$(scripts/services.sh env)"`), it then
 * measures the subscription store on MySQL (1 vs 2 shards), the Redis cache in front (miss, hit)
 * and subscribe throughput (bench/lib/network-stores.ts; bench/results/stores-network.json).
 * With HERALD_HBASE_REST_URL set, it measures the HBase inbox (appends in edge-shaped batches,
 * replays, list pages, SSE resume; bench/lib/hbase-inbox.ts) into the same file. Without them it
 * prints a `skipped:` line. The network file is merged: a part that did not run keeps its figures.
 *
 * Usage: node bench/stores.bench.ts   (prints figures, writes bench/results/stores-sqlite.json)
 *        node bench/stores.bench.ts --network   (only the MySQL/Redis and HBase part)
 *        node bench/stores.bench.ts --hbase   (only the HBase part)
 *        TMPDIR=/dev/shm node bench/stores.bench.ts   (databases on tmpfs: no fsync cost)
 *        node bench/stores.bench.ts --scenario <name>   (one scenario, JSON on the last line)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Notification } from '../core/types.ts';
import { openSqliteDedupStore, openSqliteInboxStore, openSqliteSubscriptionStore } from '../stores/sqlite/index.ts';
import type { InboxEntry } from '../stores/types.ts';
import { printHBaseInboxTable, runHBaseInboxBench } from './lib/hbase-inbox.ts';
import { printNetworkTable, runNetworkBench } from './lib/network-stores.ts';
import { printEnvironment, RESULTS_DIR, writeResult } from './lib/report.ts';
import { rng, uuidV7 } from './lib/data.ts';

type Figures = Record<string, number>;

const SCENARIOS: Record<string, (dir: string) => Promise<Figures>> = {
  'subscribers-of': subscribersOf,
  'inbox-append': inboxAppend,
  'inbox-list': inboxList,
  'inbox-read-after': inboxReadAfter,
  'dedup-confirmed': dedupConfirmed,
};

function message(r: () => number): Notification['message'] {
  return { title: 'Order shipped', body: `Your order #${Math.floor(r() * 1e9)} is on its way and should arrive within two working days.`, url: 'https://example.com/orders/123', priority: 'normal' };
}

/** Runs `op` for at least `ms` (after `warmupMs`), returns calls and per-call latencies (ms, sorted). */
async function timed(op: (i: number) => Promise<unknown>, warmupMs: number, ms: number): Promise<{ calls: number; seconds: number; lat: number[] }> {
  const warmEnd = performance.now() + warmupMs;
  let i = 0;
  while (performance.now() < warmEnd) await op(i++);
  const lat: number[] = [];
  const start = performance.now();
  while (performance.now() - start < ms) {
    const t = performance.now();
    await op(i++);
    lat.push(performance.now() - t);
  }
  return { calls: lat.length, seconds: (performance.now() - start) / 1000, lat: lat.sort((a, b) => a - b) };
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

async function subscribersOf(dir: string): Promise<Figures> {
  const store = await openSqliteSubscriptionStore({ path: join(dir, 'subscriptions.db') });
  const r = rng(1);
  const topics = 50_000;
  const users = 200_000;
  // Zipf-like: topic k has about 2,000 / (k+1)^0.8 subscribers, at least 1 → ~94,000 subscriptions.
  let rows = 0;
  for (let k = 0; k < topics; k++) {
    const n = Math.max(1, Math.round(2_000 / (k + 1) ** 0.8));
    for (let j = 0; j < n; j++) await store.subscribe(`topic-${k}`, `user-${Math.floor(r() * users)}`, 1_700_000_000_000);
    rows += n;
  }
  const batch = (i: number): string[] => Array.from({ length: 500 }, (_, j) => `topic-${Math.floor(rng(i * 500 + j)() * topics * 1.1)}`);
  let found = 0;
  const t = await timed(async (i) => {
    for (const subs of (await store.subscribersOf(batch(i))).values()) found += subs.length;
  }, 1_000, 5_000);
  await store.close();
  return { subscriptions: rows, batch_topics: 500, lookups_per_s: t.calls / t.seconds, topics_per_s: (t.calls * 500) / t.seconds, p50_ms: pct(t.lat, 50), p99_ms: pct(t.lat, 99), subscribers_per_batch: found / (t.calls + 1) };
}

function entries(count: number, start: number, users: number, r: () => number): InboxEntry[] {
  return Array.from({ length: count }, (_, j) => {
    const i = start + j;
    const ms = 1_700_000_000_000 + i;
    const user = Math.floor(r() * users);
    return { user_id: `user-${user}`, seq: i, notification: { id: uuidV7(ms, i), topic_id: `topic-${i % 997}`, message: message(r), published_at: new Date(ms).toISOString() } };
  });
}

async function inboxAppend(dir: string): Promise<Figures> {
  const store = await openSqliteInboxStore({ path: join(dir, 'inbox.db') });
  const r = rng(2);
  let next = 0;
  const batches = Array.from({ length: 400 }, () => {
    const b = entries(1_000, next, 10_000, r);
    next += 1_000;
    return b;
  });
  const t = await timed(async (i) => {
    if (i >= batches.length) throw new Error('prepare more batches');
    await store.append(batches[i] as InboxEntry[]);
  }, 1_000, 5_000);
  await store.close();
  return { batch_entries: 1_000, batches: t.calls, entries_per_s: (t.calls * 1_000) / t.seconds, batch_p50_ms: pct(t.lat, 50), batch_p99_ms: pct(t.lat, 99) };
}

async function filledInbox(dir: string): Promise<{ store: Awaited<ReturnType<typeof openSqliteInboxStore>>; users: number }> {
  const store = await openSqliteInboxStore({ path: join(dir, 'inbox.db') });
  const r = rng(3);
  const users = 2_000;
  for (let i = 0; i < 400_000; i += 1_000) await store.append(entries(1_000, i, users, r)); // ~200 per user
  // One heavy user with 20,000 notifications.
  for (let i = 0; i < 20_000; i += 1_000) {
    await store.append(entries(1_000, 1_000_000 + i, 1, r).map((e) => ({ ...e, user_id: 'heavy' })));
  }
  return { store, users };
}

async function inboxList(dir: string): Promise<Figures> {
  const { store, users } = await filledInbox(dir);
  const first = await timed((i) => store.list(`user-${i % users}`, { limit: 100 }), 500, 3_000);
  // Deep pages of the heavy user: a cursor from the middle of 20,000 items.
  const cursors: string[] = [];
  let cursor: string | null = null;
  for (let p = 0; p < 150; p++) {
    const page: Awaited<ReturnType<typeof store.list>> = await store.list('heavy', { limit: 100, ...(cursor === null ? {} : { cursor }) });
    cursor = page.next_cursor;
    if (cursor === null) break;
    cursors.push(cursor);
  }
  const deep = await timed((i) => store.list('heavy', { limit: 100, cursor: cursors[(i * 37) % cursors.length] as string }), 500, 3_000);
  await store.close();
  return { rows: 420_000, first_page_p50_ms: pct(first.lat, 50), first_page_p99_ms: pct(first.lat, 99), first_pages_per_s: first.calls / first.seconds, deep_page_p50_ms: pct(deep.lat, 50), deep_page_p99_ms: pct(deep.lat, 99) };
}

async function inboxReadAfter(dir: string): Promise<Figures> {
  const { store } = await filledInbox(dir);
  const heavy = (await store.readAfter('heavy', 'x', 20_000)).entries.map((e) => e.notification.id);
  const found = await timed((i) => store.readAfter('heavy', heavy[(i * 101) % (heavy.length - 200)] as string, 100), 500, 3_000);
  const fallback = await timed((i) => store.readAfter('heavy', uuidV7(1_700_000_000_000 + 1_000_000 + ((i * 101) % 19_000), 0xfffff), 100), 500, 3_000);
  await store.close();
  return { found_p50_ms: pct(found.lat, 50), found_p99_ms: pct(found.lat, 99), fallback_p50_ms: pct(fallback.lat, 50), fallback_p99_ms: pct(fallback.lat, 99) };
}

async function dedupConfirmed(dir: string): Promise<Figures> {
  const store = await openSqliteDedupStore({ path: join(dir, 'dedup.db') });
  for (let i = 0; i < 1_000_000; i += 5_000) {
    await store.confirm(Array.from({ length: 5_000 }, (_, j) => ({ key: `topic-${(i + j) % 997}:idem-${i + j}`, partition: (i + j) % 12, at: 1_700_000_000_000 + i + j })));
  }
  const batch = (i: number): string[] => Array.from({ length: 500 }, (_, j) => `topic-${(i * 500 + j) % 997}:idem-${j % 2 === 0 ? (i * 7_919 + j) % 1_000_000 : 2_000_000 + i * 500 + j}`);
  const t = await timed((i) => store.confirmed(batch(i)), 1_000, 4_000);
  const c = await timed(async (i) => {
    await store.confirm(Array.from({ length: 500 }, (_, j) => ({ key: `new-${i}-${j}`, partition: j % 12, at: 1_800_000_000_000 + i })));
  }, 500, 3_000);
  await store.close();
  return { keys: 1_000_000, batch_keys: 500, lookups_per_s: t.calls / t.seconds, lookup_p50_ms: pct(t.lat, 50), lookup_p99_ms: pct(t.lat, 99), confirm_keys_per_s: (c.calls * 500) / c.seconds };
}

async function runOne(name: string): Promise<void> {
  const scenario = SCENARIOS[name];
  if (scenario === undefined) throw new Error(`unknown scenario ${name}; one of ${Object.keys(SCENARIOS).join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-stores-'));
  try {
    console.log(JSON.stringify(await scenario(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runSqlite(): Record<string, Figures> {
  printEnvironment('stores (embedded SQLite)');
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, Figures> = {};
  for (const name of Object.keys(SCENARIOS)) {
    const child = spawnSync(process.execPath, [self, '--scenario', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`scenario ${name} failed with status ${child.status}`);
    const figures = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Figures;
    results[name] = figures;
    console.log(`${name}`);
    for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(24)} ${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3)}`);
  }
  const db = new Database(':memory:');
  const sqlite = db.prepare<[], string>('SELECT sqlite_version()').pluck(true).get();
  db.close();
  console.log(`# better-sqlite3 with SQLite ${sqlite}; journal WAL, synchronous NORMAL; data in ${tmpdir()}`);
  writeResult('stores-sqlite', { sqlite, data_dir: tmpdir(), scenarios: results });
  return results;
}

/**
 * MySQL/Redis and HBase figures when their URLs are set (`skipped:` lines otherwise), merged into
 * bench/results/stores-network.json: a part that did not run keeps its earlier figures (with the
 * environment of the run that measured them).
 */
async function runNetwork(sqlite: Record<string, Figures> | undefined, parts: { mysql: boolean; hbase: boolean }): Promise<void> {
  const network = parts.mysql ? await runNetworkBench() : null;
  if (network !== null) printNetworkTable(network, sqlite?.['subscribers-of']);
  const hbase = parts.hbase ? await runHBaseInboxBench() : null;
  if (hbase !== null) printHBaseInboxTable(hbase, sqlite);
  if (network === null && hbase === null) return;
  const file = join(RESULTS_DIR, 'stores-network.json');
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const { name: _name, environment, ...kept } = previous;
  const merged: Record<string, unknown> = { ...kept };
  if (network !== null) {
    Object.assign(merged, network, { sqlite_subscribers_of: sqlite?.['subscribers-of'] ?? null });
    delete merged.mysql_redis_environment;
  } else if (kept.scenarios !== undefined && kept.mysql_redis_environment === undefined) {
    merged.mysql_redis_environment = environment;
  }
  if (hbase !== null) merged.hbase_inbox = hbase;
  writeResult('stores-network', merged);
}

const at = process.argv.indexOf('--scenario');
if (at >= 0) await runOne(process.argv[at + 1] ?? '');
else if (process.argv.includes('--hbase')) await runNetwork(undefined, { mysql: false, hbase: true });
else if (process.argv.includes('--network')) await runNetwork(undefined, { mysql: true, hbase: true });
else await runNetwork(runSqlite(), { mysql: true, hbase: true });
