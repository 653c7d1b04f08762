/**
 * The network part of `npm run bench:stores`: the subscription store on the real MariaDB/MySQL
 * (HERALD_MYSQL_URL) and the Redis cache in front of it (HERALD_REDIS_URL).
 *
 *   mysql-1-shard / mysql-2-shards   subscribersForFanout (maxInline 10,000: every topic inline),
 *                                    the subscription join's lookup, batches of 500 distinct topics
 *   cache-miss / cache-hit           the same through CachedSubscriptionStore (2 shards): every
 *                                    batch's entries deleted (untimed) before it / all entries warm
 *   subscribe-*                      subscribe of new pairs, sequential and 32 in flight, on
 *                                    MySQL (1 and 2 shards) and through the cache (invalidation)
 *
 * Data: 10,000 topics × 5–15 subscribers (mean 10) out of 100,000 users, bulk-loaded into fresh
 * databases herald_<random>_<i> (1 for the single shard, 2 for the two shards; both shards on the
 * same server). Redis keys carry a unique prefix. Databases and keys are removed at the end.
 */
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { Redis } from 'ioredis';
import { logger } from '../../core/logger.ts';
import { openMysqlSubscriptionStore } from '../../stores/mysql/subscription-store.ts';
import { shardOf } from '../../stores/mysql/shard-map.ts';
import { CachedSubscriptionStore } from '../../stores/redis/cached-subscription-store.ts';
import { connectRedis, redisReady } from '../../stores/redis/client.ts';
import type { SubscriptionStore } from '../../stores/types.ts';
import { percentile } from './report.ts';

export type Figures = Record<string, number>;

const TOPICS = 10_000;
const USERS = 100_000;
const BATCH = 500;
const SUBSCRIBED_AT = 1_700_000_000_000;

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Rows (topic_id, user_id, subscribed_at) of the data set: distinct users per topic. */
function dataset(): [string, string, number][] {
  const r = rng(11);
  const rows: [string, string, number][] = [];
  for (let k = 0; k < TOPICS; k++) {
    const n = 5 + Math.floor(r() * 11);
    const users = new Set<number>();
    while (users.size < n) users.add(Math.floor(r() * USERS));
    for (const u of users) rows.push([`topic-${k}`, `user-${u}`, SUBSCRIBED_AT]);
  }
  return rows;
}

/** `count` batches of BATCH distinct topics each (partial Fisher–Yates per batch). */
function batches(count: number, seed: number): string[][] {
  const r = rng(seed);
  const ids = Array.from({ length: TOPICS }, (_, k) => `topic-${k}`);
  return Array.from({ length: count }, () => {
    for (let j = 0; j < BATCH; j++) {
      const x = j + Math.floor(r() * (TOPICS - j));
      [ids[j], ids[x]] = [ids[x]!, ids[j]!];
    }
    return ids.slice(0, BATCH);
  });
}

interface Timing {
  calls: number;
  seconds: number;
  lat: number[];
}

/**
 * Runs `op` one call at a time for `ms` after `warmupMs`; `before(i)` runs untimed ahead of each
 * call (and its time is excluded from the throughput too).
 */
async function timed(op: (i: number) => Promise<unknown>, warmupMs: number, ms: number, before?: (i: number) => Promise<unknown>): Promise<Timing> {
  let i = 0;
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) {
    await before?.(i);
    await op(i++);
  }
  const lat: number[] = [];
  let busy = 0;
  while (busy < ms) {
    await before?.(i);
    const t = performance.now();
    await op(i++);
    const d = performance.now() - t;
    lat.push(d);
    busy += d;
  }
  return { calls: lat.length, seconds: busy / 1000, lat: lat.sort((a, b) => a - b) };
}

/** Runs `op` with `inFlight` calls outstanding for `ms` after `warmupMs`; per-call latencies. */
async function concurrent(op: (i: number) => Promise<unknown>, inFlight: number, warmupMs: number, ms: number): Promise<Timing> {
  let i = 0;
  const run = async (until: number, lat: number[] | null) => {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await op(i++);
          lat?.push(performance.now() - t);
        }
      }),
    );
  };
  await run(performance.now() + warmupMs, null);
  const lat: number[] = [];
  const start = performance.now();
  await run(start + ms, lat);
  return { calls: lat.length, seconds: (performance.now() - start) / 1000, lat: lat.sort((a, b) => a - b) };
}

/** The subscription join's bound (max_inline_subscribers): every topic of the data set is inline. */
const MAX_INLINE = 10_000;

async function lookups(store: SubscriptionStore, list: string[][], before?: (b: string[]) => Promise<unknown>): Promise<Figures> {
  let found = 0;
  const t = await timed(
    async (i) => {
      for (const subs of (await store.subscribersForFanout(list[i % list.length]!, MAX_INLINE)).inline.values()) found += subs.length;
    },
    1_000,
    5_000,
    before && ((i) => before(list[i % list.length]!)),
  );
  return { batch_topics: BATCH, lookups_per_s: t.calls / t.seconds, topics_per_s: (t.calls * BATCH) / t.seconds, p50_ms: percentile(t.lat, 50), p99_ms: percentile(t.lat, 99), subscribers_per_batch: found / t.calls };
}

/** Subscribes new (topic, user) pairs: sequential, then 32 in flight. */
async function subscribes(store: SubscriptionStore, tag: string): Promise<Figures> {
  const op = (i: number) => store.subscribe(`topic-${(i * 7_919) % TOPICS}`, `bench-${tag}-${i}`, SUBSCRIBED_AT + 1);
  const seq = await timed((i) => op(i), 500, 3_000);
  const par = await concurrent((i) => op(10_000_000 + i), 32, 500, 3_000);
  return {
    sequential_per_s: seq.calls / seq.seconds,
    sequential_p50_ms: percentile(seq.lat, 50),
    sequential_p99_ms: percentile(seq.lat, 99),
    in_flight_32_per_s: par.calls / par.seconds,
    in_flight_32_p50_ms: percentile(par.lat, 50),
    in_flight_32_p99_ms: percentile(par.lat, 99),
  };
}

/** Creates `n` databases herald_<random>_<i>; returns their URLs and a drop function. */
async function freshDatabases(baseUrl: string, n: number): Promise<{ urls: string[]; drop: () => Promise<void> }> {
  const names = Array.from({ length: n }, (_, i) => `herald_bench_${randomUUID().slice(0, 8)}_${i}`);
  const admin = await mysql.createConnection({ uri: baseUrl });
  try {
    for (const name of names) await admin.query(`CREATE DATABASE \`${name}\``);
  } finally {
    await admin.end();
  }
  const urls = names.map((name) => {
    const u = new URL(baseUrl);
    u.pathname = `/${name}`;
    return u.toString();
  });
  const drop = async () => {
    const c = await mysql.createConnection({ uri: baseUrl });
    try {
      for (const name of names) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    } finally {
      await c.end();
    }
  };
  return { urls, drop };
}

/**
 * Bulk-loads `rows` into the shards (after the store has migrated them), by the store's shard map,
 * and sets each topic's counter of periods ever created as subscribe would have (one per row).
 */
async function load(urls: readonly string[], rows: readonly [string, string, number][]): Promise<void> {
  await Promise.all(
    urls.map(async (uri, shard) => {
      const mine = rows.filter(([t]) => shardOf(t, urls.length) === shard);
      const c = await mysql.createConnection({ uri });
      try {
        for (let i = 0; i < mine.length; i += 5_000) await c.query('INSERT INTO subscriptions (topic_id, user_id, subscribed_at) VALUES ?', [mine.slice(i, i + 5_000)]);
        await c.query('INSERT INTO topic_fanout (topic_id, periods_created) SELECT topic_id, COUNT(*) FROM subscriptions GROUP BY topic_id');
        await c.query('ANALYZE TABLE subscriptions, topic_fanout');
      } finally {
        await c.end();
      }
    }),
  );
}

async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}

export interface NetworkResult {
  servers: Record<string, string>;
  subscriptions: number;
  scenarios: Record<string, Figures>;
}

/**
 * Runs what the environment allows; prints a `skipped:` line for what it does not.
 * @returns null when HERALD_MYSQL_URL is unset
 */
export async function runNetworkBench(): Promise<NetworkResult | null> {
  const mysqlUrl = process.env.HERALD_MYSQL_URL;
  const redisUrl = process.env.HERALD_REDIS_URL;
  if (!mysqlUrl) {
    console.log(`skipped: MySQL and Redis figures: set HERALD_MYSQL_URL${redisUrl ? '' : ' and HERALD_REDIS_URL'} (scripts/services.sh up mariadb redis; eval "$(scripts/services.sh env)")`);
    return null;
  }
  if (!redisUrl) console.log('skipped: Redis cache figures: set HERALD_REDIS_URL (scripts/services.sh up redis; eval "$(scripts/services.sh env)")');

  const rows = dataset();
  const list = batches(400, 5);
  const scenarios: Record<string, Figures> = {};
  const servers: Record<string, string> = {};
  const dbs = await freshDatabases(mysqlUrl, 3);
  const prefix = `herald:bench:${randomUUID().slice(0, 8)}:`;
  let redis: Redis | null = null;
  const stores: SubscriptionStore[] = [];
  try {
    const c = await mysql.createConnection({ uri: mysqlUrl });
    const [v] = await c.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    servers.mysql = String(v[0]?.v);
    await c.end();

    const one = await openMysqlSubscriptionStore({ shards: dbs.urls.slice(0, 1) });
    const two = await openMysqlSubscriptionStore({ shards: dbs.urls.slice(1, 3) });
    stores.push(one, two);
    await load(dbs.urls.slice(0, 1), rows);
    await load(dbs.urls.slice(1, 3), rows);

    scenarios['mysql-1-shard'] = await lookups(one, list);
    scenarios['mysql-2-shards'] = await lookups(two, list);

    let cached: CachedSubscriptionStore | null = null;
    if (redisUrl) {
      redis = connectRedis({ url: redisUrl, commandTimeoutMs: 5_000 });
      await redisReady(redis);
      servers.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
      cached = new CachedSubscriptionStore(two, redis, logger, { prefix });
      const r = redis;
      // Miss: the batch's entries are deleted (untimed) first, so every topic goes to MySQL and is filled.
      scenarios['cache-miss'] = await lookups(cached, list, (b) => r.unlink(...b.map((t) => `${prefix}{${t}}:f`)));
      // Hit: every topic cached first.
      for (let k = 0; k < TOPICS; k += BATCH) await cached.subscribersForFanout(Array.from({ length: BATCH }, (_, j) => `topic-${k + j}`), MAX_INLINE);
      scenarios['cache-hit'] = await lookups(cached, list);
    }

    scenarios['subscribe-mysql-1-shard'] = await subscribes(one, 's1');
    scenarios['subscribe-mysql-2-shards'] = await subscribes(two, 's2');
    if (cached) scenarios['subscribe-cached-2-shards'] = await subscribes(cached, 'c2');
  } finally {
    for (const s of stores) await s.close().catch(() => {});
    await dbs.drop();
    if (redis) {
      const n = await deleteKeys(redis, prefix);
      redis.disconnect();
      console.log(`# dropped 3 databases, deleted ${n} Redis keys (${prefix}*)`);
    } else console.log('# dropped 3 databases');
  }
  return { servers, subscriptions: rows.length, scenarios };
}

/** Compact table of the network figures, with the SQLite subscribers-of figures for comparison. */
export function printNetworkTable(r: NetworkResult, sqlite: Figures | undefined): void {
  const n = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
  console.log(`# subscription store on the network: ${r.subscriptions.toLocaleString('en-US')} subscriptions (10,000 topics); ${Object.entries(r.servers).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`  ${'fan-out lookup (500 topics)'.padEnd(28)} ${'topics/s'.padStart(10)} ${'batches/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
  const look: [string, Figures | undefined][] = [
    ['sqlite (94k subs, Zipf)', sqlite],
    ['mysql 1 shard', r.scenarios['mysql-1-shard']],
    ['mysql 2 shards', r.scenarios['mysql-2-shards']],
    ['cache miss (2 shards)', r.scenarios['cache-miss']],
    ['cache hit', r.scenarios['cache-hit']],
  ];
  for (const [label, f] of look) {
    if (f) console.log(`  ${label.padEnd(28)} ${n(f.topics_per_s).padStart(10)} ${n(f.lookups_per_s).padStart(10)} ${n(f.p50_ms).padStart(8)} ${n(f.p99_ms).padStart(8)}`);
  }
  console.log(`  ${'subscribe'.padEnd(28)} ${'seq /s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'32 fl /s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
  const subs: [string, Figures | undefined][] = [
    ['mysql 1 shard', r.scenarios['subscribe-mysql-1-shard']],
    ['mysql 2 shards', r.scenarios['subscribe-mysql-2-shards']],
    ['cached (2 shards)', r.scenarios['subscribe-cached-2-shards']],
  ];
  for (const [label, f] of subs) {
    if (f) {
      console.log(
        `  ${label.padEnd(28)} ${n(f.sequential_per_s).padStart(10)} ${n(f.sequential_p50_ms).padStart(8)} ${n(f.sequential_p99_ms).padStart(8)} ${n(f.in_flight_32_per_s).padStart(10)} ${n(f.in_flight_32_p50_ms).padStart(8)} ${n(f.in_flight_32_p99_ms).padStart(8)}`,
      );
    }
  }
}
