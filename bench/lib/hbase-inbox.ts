/**
 * The HBase part of `npm run bench:stores`: the inbox store on HBase through the REST gateway
 * (HERALD_HBASE_REST_URL), in a fresh table herald_bench_inbox_<random> dropped at the end (also
 * on error).
 *
 *   append-fanout    InboxStore.append, batches of 500 = 50 notifications × 10 users (what the
 *                    edge writes for a fanned-out topic: the id lookups are one range scan per user)
 *   append-distinct  batches of 500 = 500 distinct users × 1 (the id lookups are 500 GETs, 8 in flight)
 *   replay-*         append of an already stored batch of either shape (idempotent path: all false)
 *   list-first       GET /notifications: list(limit 100) of a user with 2,000 entries
 *   list-since       the same with `since` (a random point with at least 100 entries after it)
 *   list-cursor      pages 1..19 of that user, each with the previous page's cursor
 *   read-after-found     readAfter(known id, 100): SSE resume
 *   read-after-fallback  readAfter(unknown UUIDv7, 100): the id is not stored, so the user's seq
 *                        rows are scanned from the start and filtered by time
 *
 * Appends run a fixed number of batches (20 of each shape, ~20,000 entries) after 2 warm-up
 * batches each; the read scenarios run ~3 s each after a warm-up. Sequential: one call at a time.
 * An HBase restart in the middle (HERALD_STORE_FAILED) is waited out and retried; a call that
 * needed a retry is not counted.
 */
import { randomUUID } from 'node:crypto';
import { HeraldError } from '../../core/errors.ts';
import type { Notification } from '../../core/types.ts';
import { dropHBaseInboxTable, openHBaseInboxStore, type HBaseInboxStore } from '../../stores/hbase/inbox-store.ts';
import type { InboxEntry, InboxPage } from '../../stores/types.ts';
import { percentile } from './report.ts';
import { rng, uuidV7 } from './data.ts';

export type Figures = Record<string, number>;

const BATCH = 500;
const BATCHES_PER_SHAPE = 20;
const WARMUP_BATCHES = 2;
const REPLAY_BATCHES = 10;
const HEAVY = 'heavy-user';
const HEAVY_ENTRIES = 2_000;
const PAGE = 100;
const BASE_MS = 1_700_000_000_000;
/** How long an unavailable HBase (a restart) is waited for before the bench gives up, ms. */
const RETRY_FOR_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn`, waiting out HERALD_STORE_FAILED (HBase restarting) for up to RETRY_FOR_MS. */
async function retrying<T>(what: string, fn: () => Promise<T>): Promise<{ value: T; retried: boolean }> {
  const deadline = performance.now() + RETRY_FOR_MS;
  let retried = false;
  for (;;) {
    try {
      return { value: await fn(), retried };
    } catch (err) {
      if (!(err instanceof HeraldError) || err.code !== 'HERALD_STORE_FAILED' || performance.now() > deadline) throw err;
      if (!retried) console.log(`# HBase unavailable during ${what} (${err.message}); waiting and retrying`);
      retried = true;
      await sleep(2_000);
    }
  }
}

interface Timing {
  calls: number;
  seconds: number;
  lat: number[];
  dropped: number;
}

/** Times each call of `op(i)` for i in 0..count-1 (fixed count). Calls that needed a retry are dropped. */
async function timedCount(what: string, count: number, op: (i: number) => Promise<unknown>): Promise<Timing> {
  const lat: number[] = [];
  let dropped = 0;
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const { retried } = await retrying(what, () => op(i));
    if (retried) dropped++;
    else lat.push(performance.now() - t);
  }
  return { calls: lat.length, seconds: lat.reduce((a, b) => a + b, 0) / 1000, lat: lat.sort((a, b) => a - b), dropped };
}

/** Runs `op` one call at a time for `ms` of busy time after `warmupMs`. */
async function timedFor(what: string, op: (i: number) => Promise<unknown>, warmupMs: number, ms: number): Promise<Timing> {
  let i = 0;
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await retrying(what, () => op(i++));
  const lat: number[] = [];
  let busy = 0;
  let dropped = 0;
  while (busy < ms) {
    const t = performance.now();
    const n = i++;
    const { retried } = await retrying(what, () => op(n));
    const d = performance.now() - t;
    if (retried) {
      dropped++;
      continue;
    }
    lat.push(d);
    busy += d;
  }
  return { calls: lat.length, seconds: busy / 1000, lat: lat.sort((a, b) => a - b), dropped };
}

function latency(t: Timing): Figures {
  return { calls: t.calls, per_s: t.calls / t.seconds, p50_ms: percentile(t.lat, 50), p99_ms: percentile(t.lat, 99), ...(t.dropped > 0 ? { dropped_retried: t.dropped } : {}) };
}

/** Builds the entries: notification counter, per-user seq, ~200-byte JSON messages. */
class Generator {
  #n = 0;
  readonly #seq = new Map<string, number>();
  readonly #r = rng(7);

  notification(): Notification {
    const i = this.#n++;
    const ms = BASE_MS + i;
    return {
      id: uuidV7(ms, i),
      topic_id: `topic-${i % 997}`,
      message: { title: 'Order shipped', body: `Your order #${Math.floor(this.#r() * 1e9)} is on its way and should arrive within two working days.`, url: 'https://example.com/orders/123', priority: 'normal' },
      published_at: new Date(ms).toISOString(),
    };
  }

  entry(user: string, n: Notification): InboxEntry {
    const seq = (this.#seq.get(user) ?? -1) + 1;
    this.#seq.set(user, seq);
    return { user_id: user, seq, notification: n };
  }

  /** 50 notifications × 10 users (batch `b` goes to users fan-10b .. fan-10b+9 of a pool of 1,000). */
  fanout(b: number): InboxEntry[] {
    const out: InboxEntry[] = [];
    for (let k = 0; k < BATCH / 10; k++) {
      const n = this.notification();
      for (let u = 0; u < 10; u++) out.push(this.entry(`fan-${(b * 10 + u) % 1_000}`, n));
    }
    return out;
  }

  /** 500 distinct users × 1 notification each. */
  distinct(b: number): InboxEntry[] {
    return Array.from({ length: BATCH }, (_, j) => this.entry(`user-${b * BATCH + j}`, this.notification()));
  }

  /** `count` notifications of one user. */
  single(user: string, count: number): InboxEntry[] {
    return Array.from({ length: count }, () => this.entry(user, this.notification()));
  }
}

async function appends(store: HBaseInboxStore, what: string, list: InboxEntry[][]): Promise<Figures> {
  let stored = 0;
  const t = await timedCount(what, list.length, async (i) => {
    const flags = await store.append(list[i]!);
    stored += flags.filter(Boolean).length;
  });
  const entries = t.calls * BATCH;
  return { batch_entries: BATCH, batches: t.calls, entries: entries, entries_per_s: entries / t.seconds, batch_p50_ms: percentile(t.lat, 50), batch_p99_ms: percentile(t.lat, 99), new_flags: stored, ...(t.dropped > 0 ? { dropped_retried: t.dropped } : {}) };
}

export interface HBaseInboxResult {
  date: string;
  servers: Record<string, string>;
  table: string;
  entries_stored: number;
  heavy_user_entries: number;
  scenarios: Record<string, Figures>;
}

async function serverVersions(restUrl: string): Promise<Record<string, string>> {
  const get = async (path: string): Promise<unknown> => {
    try {
      const res = await fetch(restUrl.replace(/\/+$/, '') + path, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
      return res.ok ? await res.json() : null;
    } catch {
      return null;
    }
  };
  const cluster = await get('/version/cluster');
  const rest = (await get('/version')) as { REST?: string } | null;
  return { hbase: typeof cluster === 'string' ? cluster : 'unknown', hbase_rest: rest?.REST ?? 'unknown' };
}

/**
 * Runs the HBase inbox figures, or prints a `skipped:` line.
 * @returns null when HERALD_HBASE_REST_URL is unset
 */
export async function runHBaseInboxBench(): Promise<HBaseInboxResult | null> {
  const restUrl = process.env.HERALD_HBASE_REST_URL;
  if (!restUrl) {
    console.log('skipped: HBase inbox figures: set HERALD_HBASE_REST_URL (scripts/services.sh up hbase; eval "$(scripts/services.sh env)")');
    return null;
  }
  const table = `herald_bench_inbox_${randomUUID().slice(0, 8)}`;
  const gen = new Generator();
  const scenarios: Record<string, Figures> = {};
  let store: HBaseInboxStore | null = null;
  let stored = 0;
  try {
    const servers = await serverVersions(restUrl);
    store = (await retrying('table creation', () => openHBaseInboxStore({ restUrl, table, retentionMs: 30 * 86_400_000 }))).value;
    const s = store;

    // Appends: 2 warm-up batches of each shape, then 20 timed batches of each.
    for (let b = 0; b < WARMUP_BATCHES; b++) {
      await retrying('warm-up', () => s.append(gen.fanout(900 + b)));
      await retrying('warm-up', () => s.append(gen.distinct(900 + b)));
      stored += 2 * BATCH;
    }
    const fan = Array.from({ length: BATCHES_PER_SHAPE }, (_, b) => gen.fanout(b));
    const distinct = Array.from({ length: BATCHES_PER_SHAPE }, (_, b) => gen.distinct(b));
    scenarios['append-fanout'] = await appends(s, 'fan-out appends', fan);
    scenarios['append-distinct'] = await appends(s, 'distinct-user appends', distinct);
    stored += 2 * BATCHES_PER_SHAPE * BATCH;

    // Replays of stored batches: every flag false.
    scenarios['replay-fanout'] = await appends(s, 'fan-out replays', fan.slice(0, REPLAY_BATCHES));
    scenarios['replay-distinct'] = await appends(s, 'distinct-user replays', distinct.slice(0, REPLAY_BATCHES));
    for (const k of ['replay-fanout', 'replay-distinct']) {
      if (scenarios[k]!.new_flags !== 0) throw new Error(`${k}: a replay stored ${scenarios[k]!.new_flags} entries again`);
    }

    // The heavy user: 2,000 entries in batches of 500 (untimed).
    const heavy: InboxEntry[] = [];
    for (let i = 0; i < HEAVY_ENTRIES; i += BATCH) {
      const batch = gen.single(HEAVY, BATCH);
      heavy.push(...batch);
      await retrying('heavy user load', () => s.append(batch));
    }
    stored += HEAVY_ENTRIES;
    const heavyMs = heavy.map((e) => Date.parse(e.notification.published_at));

    const check = (ok: boolean, why: string) => {
      if (!ok) throw new Error(`HBase inbox bench: ${why}`);
    };
    scenarios['list-first'] = latency(
      await timedFor('list', async () => {
        const p = await s.list(HEAVY, { limit: PAGE });
        check(p.notifications.length === PAGE && p.next_cursor !== null, 'first page is not full');
      }, 300, 3_000),
    );
    const r = rng(13);
    scenarios['list-since'] = latency(
      await timedFor('list since', async () => {
        const sinceMs = heavyMs[Math.floor(r() * (HEAVY_ENTRIES - PAGE - 1))]!;
        const p = await s.list(HEAVY, { limit: PAGE, sinceMs });
        check(p.notifications.length === PAGE, 'page after since is not full');
      }, 300, 3_000),
    );
    // The cursors of pages 1..19 (one full walk, checked), then random cursor pages.
    const cursors: string[] = [];
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const c: string | null = cursor;
      const page: InboxPage = (await retrying('cursor walk', (): Promise<InboxPage> => s.list(HEAVY, { limit: PAGE, ...(c === null ? {} : { cursor: c }) }))).value;
      for (const n of page.notifications) seen.add(n.id);
      cursor = page.next_cursor;
      if (cursor !== null) cursors.push(cursor);
    } while (cursor !== null);
    check(seen.size === HEAVY_ENTRIES && cursors.length === HEAVY_ENTRIES / PAGE - 1, `cursor walk saw ${seen.size} entries in ${cursors.length + 1} pages`);
    scenarios['list-cursor'] = latency(
      await timedFor('list cursor', async (i) => {
        const p = await s.list(HEAVY, { limit: PAGE, cursor: cursors[(i * 7) % cursors.length]! });
        check(p.notifications.length === PAGE, 'cursor page is not full');
      }, 300, 3_000),
    );

    // SSE resume: a known id (100 entries after it) and an unknown UUIDv7 (fallback by time).
    const r2 = rng(17);
    scenarios['read-after-found'] = latency(
      await timedFor('readAfter', async () => {
        const id = heavy[Math.floor(r2() * (HEAVY_ENTRIES - PAGE - 1))]!.notification.id;
        const res = await s.readAfter(HEAVY, id, PAGE);
        check(res.found && res.entries.length === PAGE, 'readAfter(known id) did not find 100 entries');
      }, 300, 3_000),
    );
    scenarios['read-after-fallback'] = latency(
      await timedFor('readAfter fallback', async () => {
        const ms = heavyMs[Math.floor(r2() * (HEAVY_ENTRIES - PAGE - 1))]!;
        const res = await s.readAfter(HEAVY, uuidV7(ms, 0xfffff), PAGE);
        check(!res.found && res.entries.length === PAGE, 'readAfter(unknown id) did not fall back to 100 entries');
      }, 300, 3_000),
    );
    return { date: new Date().toISOString(), servers, table, entries_stored: stored, heavy_user_entries: HEAVY_ENTRIES, scenarios };
  } finally {
    await store?.close().catch(() => {});
    try {
      await retrying('table drop', () => dropHBaseInboxTable(restUrl, table));
      console.log(`# dropped HBase table ${table}`);
    } catch (err) {
      console.log(`# could not drop HBase table ${table}: ${(err as Error).message}`);
    }
  }
}

/** Compact table of the HBase inbox figures, with the SQLite inbox figures where comparable. */
export function printHBaseInboxTable(r: HBaseInboxResult, sqlite: Record<string, Figures> | undefined): void {
  const n = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
  const s = sqlite ?? {};
  console.log(`# inbox store on HBase: ${r.entries_stored.toLocaleString('en-US')} entries in ${r.table}; hbase ${r.servers.hbase} (REST ${r.servers.hbase_rest})`);
  console.log(`  ${'append (batches of 500)'.padEnd(30)} ${'entries/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'batches'.padStart(8)}`);
  const app: [string, Figures | undefined][] = [
    ['50 notifications × 10 users', r.scenarios['append-fanout']],
    ['500 users × 1', r.scenarios['append-distinct']],
    ['replay 50 × 10 (all stored)', r.scenarios['replay-fanout']],
    ['replay 500 × 1 (all stored)', r.scenarios['replay-distinct']],
  ];
  for (const [label, f] of app) if (f) console.log(`  ${label.padEnd(30)} ${n(f.entries_per_s).padStart(10)} ${n(f.batch_p50_ms).padStart(8)} ${n(f.batch_p99_ms).padStart(8)} ${String(f.batches).padStart(8)}`);
  const sa = s['inbox-append'];
  if (sa) console.log(`  ${'sqlite (batches of 1,000)'.padEnd(30)} ${n(sa.entries_per_s).padStart(10)} ${n(sa.batch_p50_ms).padStart(8)} ${n(sa.batch_p99_ms).padStart(8)}`);
  console.log(`  ${`reads (user with ${r.heavy_user_entries.toLocaleString('en-US')}, limit 100)`.padEnd(30)} ${'calls/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'sqlite p50'.padStart(11)} ${'p99'.padStart(7)}`);
  const sl = s['inbox-list'];
  const sr = s['inbox-read-after'];
  const reads: [string, Figures | undefined, number | undefined, number | undefined][] = [
    ['list, first page', r.scenarios['list-first'], sl?.first_page_p50_ms, sl?.first_page_p99_ms],
    ['list, since', r.scenarios['list-since'], undefined, undefined],
    ['list, cursor page', r.scenarios['list-cursor'], sl?.deep_page_p50_ms, sl?.deep_page_p99_ms],
    ['readAfter, known id', r.scenarios['read-after-found'], sr?.found_p50_ms, sr?.found_p99_ms],
    ['readAfter, unknown id', r.scenarios['read-after-fallback'], sr?.fallback_p50_ms, sr?.fallback_p99_ms],
  ];
  for (const [label, f, p50, p99] of reads) {
    if (f) console.log(`  ${label.padEnd(30)} ${n(f.per_s).padStart(10)} ${n(f.p50_ms).padStart(8)} ${n(f.p99_ms).padStart(8)} ${n(p50).padStart(11)} ${n(p99).padStart(7)}`);
  }
}
