/**
 * The MySQL stores against the real MariaDB: the SubscriptionStore contract (the same suite the
 * SQLite store passes) on one shard and on two shards, the IdempotencyStore contract on two
 * shards, plus migrations and sharding, and paged fan-out of a topic with 1,000,000 subscribers.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { bucketRange, userHash } from '../../core/user-hash.ts';
import type { SubscriberCursor } from '../../stores/types.ts';
import { openMysqlSubscriptionStore } from '../../stores/mysql/subscription-store.ts';
import { shardOf } from '../../stores/mysql/shard-map.ts';
import { subscriptionStoreContract } from '../contract/subscription-store.contract.ts';
import { idempotencyStoreContract } from '../contract/idempotency-store.contract.ts';
import { openMysqlIdempotencyStore } from '../../stores/mysql/idempotency-store.ts';
import { bulkSubscribeMysql } from '../helpers/bulk-subscriptions.ts';
import { freshMysqlDatabases } from '../helpers/services.ts';

for (const shards of [1, 2]) {
  subscriptionStoreContract(`mysql, ${shards} shard(s)`, async () => {
    const dbs = await freshMysqlDatabases(shards);
    const store = await openMysqlSubscriptionStore({ shards: dbs.urls });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dbs.drop();
      },
    };
  });
}

idempotencyStoreContract('mysql, 2 shards', async () => {
  const dbs = await freshMysqlDatabases(2);
  const store = await openMysqlIdempotencyStore({ shards: dbs.urls });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dbs.drop();
    },
  };
});

describe('mysql subscription store: migrations and shards', () => {
  it('migrates once (a second open applies nothing) and keeps each topic on its shard', async () => {
    const dbs = await freshMysqlDatabases(2);
    try {
      const a = await openMysqlSubscriptionStore({ shards: dbs.urls });
      const topics = Array.from({ length: 40 }, (_, i) => `t-${i}`);
      for (const t of topics) await a.subscribe(t, 'u1', 1);
      await a.close();
      const b = await openMysqlSubscriptionStore({ shards: dbs.urls });
      expect((await b.topicsOf('u1')).length).toBe(40);
      await b.close();
      for (let s = 0; s < 2; s++) {
        const c = await mysql.createConnection({ uri: dbs.urls[s]! });
        const [versions] = (await c.query('SELECT version FROM herald_schema_migrations')) as unknown as [{ version: number }[]];
        expect(versions.map((v) => v.version)).toEqual([1, 2]);
        const [rows] = (await c.query('SELECT topic_id FROM subscriptions')) as unknown as [{ topic_id: string }[]];
        expect(rows.length).toBeGreaterThan(0);
        for (const r of rows) expect(shardOf(r.topic_id, 2)).toBe(s);
        await c.end();
      }
    } finally {
      await dbs.drop();
    }
  });

  it('rejects an unreachable shard with HERALD_STORE_FAILED', async () => {
    await expect(openMysqlSubscriptionStore({ shards: ['mysql://herald:herald@127.0.0.1:1/herald'] })).rejects.toMatchObject({ code: 'HERALD_STORE_FAILED' });
  });
});

describe('a topic with 1,000,000 subscribers', () => {
  const N = 1_000_000;
  const T0 = Date.UTC(2026, 0, 1);
  /** user-<i>, subscribed at T0 + i % 1000: distinct ids, several timestamps. */
  const row = (i: number): [string, string, number] => ['big', `user-${i}`, T0 + (i % 1_000)];

  it('is paged by the fan-out lookup without reading its periods, and its buckets (256, then 16) read in pages of 5,000 list every subscriber exactly once with bounded memory', async () => {
    const dbs = await freshMysqlDatabases(1);
    const store = await openMysqlSubscriptionStore({ shards: dbs.urls });
    try {
      // Bulk load through SQL, mirroring subscribe (test/helpers/bulk-subscriptions.ts).
      const loadMs = await bulkSubscribeMysql({ url: dbs.urls[0]!, topicId: 'big', count: N, userId: (i) => row(i)[1], subscribedAt: (i) => row(i)[2] });
      const conn = await mysql.createConnection({ uri: dbs.urls[0]! });
      const [[counter]] = (await conn.query("SELECT periods_created AS n FROM topic_fanout WHERE topic_id = 'big'")) as unknown as [{ n: number }[]];
      expect(Number(counter?.n)).toBe(N);
      await store.subscribe('small', 'b', T0);
      await store.subscribe('small', 'a', T0 + 1);

      // The lookup answers "paged" for big from its counter: it never reads big's periods.
      // Rows read server-wide (index and table scans); a scan of big's index range adds 1,000,000.
      const rowsRead = async () => {
        const [rows] = (await conn.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Handler_read_next', 'Handler_read_rnd_next')")) as unknown as [{ Value: string }[]];
        return rows.reduce((n, r) => n + Number(r.Value), 0);
      };
      const controlBefore = await rowsRead();
      await conn.query("SELECT COUNT(*) FROM subscriptions WHERE topic_id = 'big'");
      expect((await rowsRead()) - controlBefore).toBeGreaterThanOrEqual(N);
      const readBefore = await rowsRead();
      const lookupStart = performance.now();
      const found = await store.subscribersForFanout(['big', 'small'], 10_000);
      const lookupMs = performance.now() - lookupStart;
      const readDuring = (await rowsRead()) - readBefore;
      expect(found.paged).toEqual(new Set(['big']));
      expect(found.inline.has('big')).toBe(false);
      expect(found.inline).toEqual(new Map([['small', [{ user_id: 'a', subscribed_at: T0 + 1 }, { user_id: 'b', subscribed_at: T0 }]]]));
      expect(readDuring).toBeLessThan(100_000); // a lookup that loaded big would read 1,000,000 rows
      await conn.end();

      // Every bucket, page by page: each user once (a bitmap of ids), no page over 5,000 rows,
      // (user_hash, user_id) order within a bucket, every hash inside its bucket. 256 buckets (about
      // 3,900 users each: one page per bucket), then 16 (62,500 each: 13 pages, the cursor at work).
      // Memory: the peak heap (garbage included) and, after a full GC every 32 pages, what the
      // scan retains (one page, whatever the topic's size). 1,000,000 periods held at once would
      // take well over 150 MB.
      v8.setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      let heapMax = heapBefore;
      let retainedMax = heapBefore;
      const scan = async (buckets: number) => {
        const seen = new Uint8Array(N);
        let total = 0;
        let pages = 0;
        let biggestPage = 0;
        const start = performance.now();
        for (let b = 0; b < buckets; b++) {
          const range = bucketRange(b, buckets);
          let after: SubscriberCursor | null = null;
          let prev: [number, string] | null = null;
          do {
            const page = await store.subscribersInRange('big', range, after, 5_000);
            pages++;
            biggestPage = Math.max(biggestPage, page.subscribers.length);
            for (const sub of page.subscribers) {
              const h = userHash(sub.user_id);
              if (h < range.from || h >= range.to) throw new Error(`${sub.user_id} (hash ${h}) outside bucket ${b}`);
              if (prev !== null && (h < prev[0] || (h === prev[0] && sub.user_id <= prev[1]))) throw new Error(`${sub.user_id} out of order in bucket ${b}`);
              prev = [h, sub.user_id];
              const i = Number(sub.user_id.slice('user-'.length));
              if (seen[i] !== 0) throw new Error(`${sub.user_id} listed twice`);
              seen[i] = 1;
              total++;
            }
            after = page.next;
            heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
            if (pages % 32 === 0) {
              gc();
              retainedMax = Math.max(retainedMax, process.memoryUsage().heapUsed);
            }
          } while (after !== null);
        }
        expect(total).toBe(N);
        expect(seen.every((x) => x === 1)).toBe(true);
        expect(biggestPage).toBeLessThanOrEqual(5_000);
        return { ms: performance.now() - start, pages, biggestPage };
      };
      const all256 = await scan(256);
      const all16 = await scan(16);
      expect(all16.biggestPage).toBe(5_000);
      expect(heapMax - heapBefore).toBeLessThan(150 * 1024 * 1024);
      expect(retainedMax - heapBefore).toBeLessThan(30 * 1024 * 1024);
      const perS = (ms: number) => Math.round(N / (ms / 1000));
      console.log(
        `1,000,000 periods: bulk load ${(loadMs / 1000).toFixed(1)} s (${perS(loadMs)} rows/s); ` +
          `fan-out lookup ${lookupMs.toFixed(1)} ms (${readDuring} rows read server-wide); ` +
          `256 buckets: ${all256.pages} pages (largest ${all256.biggestPage}) in ${(all256.ms / 1000).toFixed(1)} s (${perS(all256.ms)} rows/s); ` +
          `16 buckets: ${all16.pages} pages in ${(all16.ms / 1000).toFixed(1)} s (${perS(all16.ms)} rows/s); ` +
          `heap growth at most ${((heapMax - heapBefore) / 1024 / 1024).toFixed(1)} MB (retained after GC ${((retainedMax - heapBefore) / 1024 / 1024).toFixed(1)} MB)`,
      );
    } finally {
      await store.close();
      await dbs.drop();
    }
  }, 180_000);
});
