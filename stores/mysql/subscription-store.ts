/**
 * SubscriptionStore on MySQL (MariaDB), logically sharded by topic_id over N databases
 * (HERALD_MYSQL_SHARDS: one connection URL per shard; see shard-map.ts).
 *
 * Table per shard: one row per subscription period `(topic_id, user_id, subscribed_at,
 * unsubscribed_at)`, primary key (topic_id, user_id, subscribed_at) — the fan-out reads one
 * contiguous key range per topic — a unique key on the open period (a generated column that is
 * user_id while open, NULL once ended), and the reverse index (user_id, topic_id). Ids are `ascii_bin`: compared byte for byte,
 * case-sensitive, in binary order, never coerced to numbers (the API allows only ASCII ids).
 *
 * Batch lookup: one `topic_id IN (…)` query per shard that holds any of the batch's topics, the
 * shards in parallel: one round trip per shard per batch.
 *
 * Paged fan-out (migration v2): `user_hash` is a persistent generated column `CRC32(user_id)`
 * (MySQL computes it; equal to core/user-hash.ts), indexed as (topic_id, user_hash, user_id,
 * subscribed_at, unsubscribed_at) so one hash bucket of a topic is an index range scan that never
 * visits the table (covering: a 1,000,000-row topic reads 5.5× faster than with a lookup of
 * unsubscribed_at per row, 1.5 s vs 8.3 s for all 256 buckets here); `topic_fanout` counts the
 * periods ever created per topic (bumped by subscribe in the same transaction as the insert,
 * never decremented, also not by purge), which decides inline vs paged: the lookup reads the
 * counter rows and joins the periods of the topics under the bound only.
 */
import mysql, { type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import type { UserHashRange } from '../../core/user-hash.ts';
import { countedFromRows, inlineBound, pageOf, rangeStart, toFanoutLookup, type CountedFanout, type FanoutCountSource, type FanoutRow, type RangeRow } from '../fanout-counts.ts';
import type { FanoutLookup, Subscriber, SubscriberCursor, SubscriberPage, SubscriptionStore } from '../types.ts';
import type { MysqlMigration } from './migrations.ts';
import { openShardPools } from './pools.ts';
import { onMysql } from './mysql-errors.ts';
import { groupByShard, shardOf } from './shard-map.ts';

/** Schema history of a subscription shard. */
export const SUBSCRIPTION_MIGRATIONS: readonly MysqlMigration[] = [
  {
    version: 1,
    name: 'subscriptions: create table',
    statements: [
      `CREATE TABLE IF NOT EXISTS subscriptions (
        topic_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        subscribed_at BIGINT NOT NULL COMMENT 'ms since the epoch',
        unsubscribed_at BIGINT NULL COMMENT 'ms since the epoch; NULL while subscribed',
        open_user VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin AS (IF(unsubscribed_at IS NULL, user_id, NULL)) PERSISTENT,
        PRIMARY KEY (topic_id, user_id, subscribed_at),
        UNIQUE KEY subscriptions_open (topic_id, open_user),
        KEY subscriptions_by_user (user_id, topic_id)
      ) ENGINE=InnoDB`,
    ],
  },
  {
    version: 2,
    name: 'subscriptions: user_hash for paged fan-out, topic_fanout counter',
    // IF NOT EXISTS / GREATEST: a migration interrupted half-way can run again (DDL commits per statement).
    statements: [
      `ALTER TABLE subscriptions
        ADD COLUMN IF NOT EXISTS user_hash INT UNSIGNED AS (CRC32(user_id)) PERSISTENT COMMENT 'CRC-32 of user_id (core/user-hash.ts)',
        ADD KEY IF NOT EXISTS subscriptions_by_hash (topic_id, user_hash, user_id, subscribed_at, unsubscribed_at)`,
      `CREATE TABLE IF NOT EXISTS topic_fanout (
        topic_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
        periods_created BIGINT NOT NULL COMMENT 'subscription periods ever created; only grows'
      ) ENGINE=InnoDB`,
      `INSERT INTO topic_fanout (topic_id, periods_created)
        SELECT topic_id, COUNT(*) FROM subscriptions GROUP BY topic_id
        ON DUPLICATE KEY UPDATE periods_created = GREATEST(periods_created, VALUES(periods_created))`,
    ],
  },
];

/** Attempts of a subscribe transaction that InnoDB chose as a deadlock victim (counter row race). */
const SUBSCRIBE_ATTEMPTS = 3;

/**
 * Every asked topic that has a counter, joined with its periods only when the counter is ≤ the
 * bound (the ON condition): one statement per shard, and a paged topic's periods are never read
 * (MariaDB checks the outer-only condition before reading `subscriptions`: 0 index rows read for
 * a batch of paged topics). A topic without periods to list comes back once with NULLs.
 * Measured against counter rows UNION ALL the join (batches of 500 topics, ~11 periods each):
 * 14 ms vs 22 ms per batch (the union is materialised and sorted), 12 ms for the plain lookup
 * without counters. Parameters: bound, ids.
 */
const FANOUT_SQL = `SELECT f.topic_id, f.periods_created, s.user_id, s.subscribed_at, s.unsubscribed_at
  FROM topic_fanout f LEFT JOIN subscriptions s ON s.topic_id = f.topic_id AND f.periods_created <= ?
  WHERE f.topic_id IN (?)
  ORDER BY f.topic_id, s.user_id, s.subscribed_at`;

/** One bucket page; FORCE INDEX keeps it an index range scan of (topic, hash range). */
const RANGE_SQL = `SELECT user_hash, user_id, subscribed_at, unsubscribed_at FROM subscriptions FORCE INDEX (subscriptions_by_hash)
  WHERE topic_id = ? AND user_hash >= ? AND user_hash < ?`;
const RANGE_ORDER = 'ORDER BY user_hash, user_id, subscribed_at LIMIT ?';
/** Strictly after the cursor (user_hash, user_id, subscribed_at), in the expanded form. */
const AFTER_CURSOR = 'AND (user_hash > ? OR (user_hash = ? AND (user_id > ? OR (user_id = ? AND subscribed_at > ?))))';

/** Options of {@link openMysqlSubscriptionStore}. */
export interface MysqlSubscriptionStoreOptions {
  /** One connection URL per shard, `mysql://user:pass@host:port/db`. Order is part of the shard map. */
  shards: readonly string[];
  /** Connections per shard pool. Default 8. */
  connectionsPerShard?: number;
  /** Per-query timeout, ms. Default 10 000. */
  queryTimeoutMs?: number;
  /** Apply migrations on open (the main thread does; operator worker threads only read). Default true. */
  migrate?: boolean;
}

type Row = RowDataPacket & { topic_id: string; user_id: string; subscribed_at: number; unsubscribed_at: number | null };

/** See the module comment. */
export class MysqlSubscriptionStore implements SubscriptionStore, FanoutCountSource {
  readonly #pools: Pool[];
  readonly #timeout: number;

  constructor(pools: Pool[], queryTimeoutMs: number) {
    this.#pools = pools;
    this.#timeout = queryTimeoutMs;
  }

  #pool(topicId: string): Pool {
    return this.#pools[shardOf(topicId, this.#pools.length)]!;
  }

  /**
   * Inserts the period and, when it was created, bumps the topic's counter, in one transaction on
   * one connection of the topic's shard (a reader sees both or neither). Retries a deadlock victim
   * (concurrent first subscribes of one topic race on the new counter row).
   */
  async subscribe(topicId: string, userId: string, atMs: number): Promise<{ created: boolean }> {
    return onMysql('subscriptions.subscribe', async () => {
      const conn = await this.#pool(topicId).getConnection();
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            return { created: await this.#subscribeOnce(conn, topicId, userId, atMs) };
          } catch (err) {
            if ((err as { code?: string }).code !== 'ER_LOCK_DEADLOCK' || attempt >= SUBSCRIBE_ATTEMPTS) throw err;
          }
        }
      } finally {
        conn.release();
      }
    });
  }

  async #subscribeOnce(conn: PoolConnection, topicId: string, userId: string, atMs: number): Promise<boolean> {
    await conn.beginTransaction();
    try {
      try {
        await conn.query({ sql: 'INSERT INTO subscriptions (topic_id, user_id, subscribed_at) VALUES (?, ?, ?)', timeout: this.#timeout }, [topicId, userId, atMs]);
      } catch (err) {
        // Only a duplicate key means "already subscribed" (an open period exists); others propagate.
        if ((err as { code?: string }).code !== 'ER_DUP_ENTRY') throw err;
        await conn.rollback();
        return false;
      }
      await conn.query(
        { sql: 'INSERT INTO topic_fanout (topic_id, periods_created) VALUES (?, 1) ON DUPLICATE KEY UPDATE periods_created = periods_created + 1', timeout: this.#timeout },
        [topicId],
      );
      await conn.commit();
      return true;
    } catch (err) {
      await conn.rollback().catch(() => {});
      throw err;
    }
  }

  async unsubscribe(topicId: string, userId: string, atMs: number = Date.now()): Promise<{ removed: boolean }> {
    return onMysql('subscriptions.unsubscribe', async () => {
      const [r] = await this.#pool(topicId).query(
        { sql: 'UPDATE subscriptions SET unsubscribed_at = ? WHERE topic_id = ? AND user_id = ? AND unsubscribed_at IS NULL', timeout: this.#timeout },
        [atMs, topicId, userId],
      );
      return { removed: (r as mysql.ResultSetHeader).affectedRows === 1 };
    });
  }

  async purgeUnsubscribed(beforeMs: number): Promise<number> {
    return onMysql('subscriptions.purgeUnsubscribed', async () => {
      let n = 0;
      for (const pool of this.#pools) {
        const [r] = await pool.query({ sql: 'DELETE FROM subscriptions WHERE unsubscribed_at < ?', timeout: this.#timeout }, [beforeMs]);
        n += (r as mysql.ResultSetHeader).affectedRows;
      }
      return n;
    });
  }

  async subscribersOf(topicIds: readonly string[]): Promise<Map<string, Subscriber[]>> {
    const result = new Map<string, Subscriber[]>();
    for (const id of topicIds) result.set(id, []);
    if (topicIds.length === 0) return result;
    return onMysql('subscriptions.subscribersOf', async () => {
      const byShard = groupByShard(topicIds, this.#pools.length);
      await Promise.all(
        [...byShard].map(async ([shard, ids]) => {
          const [rows] = await this.#pools[shard]!.query<Row[]>(
            { sql: 'SELECT topic_id, user_id, subscribed_at, unsubscribed_at FROM subscriptions WHERE topic_id IN (?) ORDER BY topic_id, user_id, subscribed_at', timeout: this.#timeout },
            [ids],
          );
          for (const r of rows) {
            const sub: Subscriber = { user_id: r.user_id, subscribed_at: Number(r.subscribed_at) };
            if (r.unsubscribed_at !== null) sub.unsubscribed_at = Number(r.unsubscribed_at);
            result.get(r.topic_id)!.push(sub);
          }
        }),
      );
      return result;
    });
  }

  /**
   * See {@link SubscriptionStore.subscribersForFanout}: paged when the topic's counter of periods
   * ever created exceeds `maxInline`; a paged topic's periods are not read.
   * @throws RangeError when maxInline is negative or NaN
   */
  async subscribersForFanout(topicIds: readonly string[], maxInline: number): Promise<FanoutLookup> {
    return toFanoutLookup(await this.fanoutWithCounts(topicIds, maxInline));
  }

  /** See {@link FanoutCountSource.fanoutWithCounts} (internal: used by the Redis cache). */
  async fanoutWithCounts(topicIds: readonly string[], maxInline: number): Promise<Map<string, CountedFanout>> {
    const bound = inlineBound(maxInline);
    const result = new Map<string, CountedFanout>();
    if (topicIds.length === 0) return result;
    return onMysql('subscriptions.subscribersForFanout', async () => {
      const byShard = groupByShard(topicIds, this.#pools.length);
      const parts = await Promise.all(
        [...byShard].map(async ([shard, ids]) => {
          const [rows] = await this.#pools[shard]!.query<RowDataPacket[]>({ sql: FANOUT_SQL, rowsAsArray: true, timeout: this.#timeout }, [bound, ids]);
          return countedFromRows(ids, rows as unknown as FanoutRow[], bound);
        }),
      );
      for (const part of parts) for (const [t, c] of part) result.set(t, c);
      return result;
    });
  }

  /**
   * See {@link SubscriptionStore.subscribersInRange}: one range scan of the hash index from
   * max(range.from, after.user_hash), `limit + 1` rows (the extra one only decides `next`).
   * @throws RangeError unless limit is an integer ≥ 1 and the range lies in [0, 2^32]
   */
  async subscribersInRange(topicId: string, range: UserHashRange, after: SubscriberCursor | null, limit: number): Promise<SubscriberPage> {
    const start = rangeStart(range, after, limit);
    if (start === null) return { subscribers: [], next: null };
    return onMysql('subscriptions.subscribersInRange', async () => {
      const [rows] =
        after === null
          ? await this.#pool(topicId).query<RowDataPacket[]>({ sql: `${RANGE_SQL} ${RANGE_ORDER}`, rowsAsArray: true, timeout: this.#timeout }, [topicId, start, range.to, limit + 1])
          : await this.#pool(topicId).query<RowDataPacket[]>({ sql: `${RANGE_SQL} ${AFTER_CURSOR} ${RANGE_ORDER}`, rowsAsArray: true, timeout: this.#timeout }, [
              topicId,
              start,
              range.to,
              after.user_hash,
              after.user_hash,
              after.user_id,
              after.user_id,
              after.subscribed_at,
              limit + 1,
            ]);
      return pageOf(rows as unknown as RangeRow[], limit);
    });
  }

  async topicsOf(userId: string): Promise<string[]> {
    return onMysql('subscriptions.topicsOf', async () => {
      // The reverse index lives on every shard: ask them all, merge in binary order.
      const lists = await Promise.all(
        this.#pools.map(async (pool) => {
          const [rows] = await pool.query<Row[]>({ sql: 'SELECT topic_id FROM subscriptions WHERE user_id = ? AND unsubscribed_at IS NULL ORDER BY topic_id', timeout: this.#timeout }, [userId]);
          return rows.map((r) => r.topic_id);
        }),
      );
      return lists.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#pools.map((p) => p.end()));
  }
}

/**
 * Connects to every shard and applies the migrations.
 * @throws HeraldError HERALD_STORE_FAILED (unreachable) / HERALD_STORE_REJECTED (access, SQL)
 */
export async function openMysqlSubscriptionStore(o: MysqlSubscriptionStoreOptions): Promise<MysqlSubscriptionStore> {
  const pools = await openShardPools(o.shards, o.connectionsPerShard ?? 8, o.migrate === false ? null : SUBSCRIPTION_MIGRATIONS);
  return new MysqlSubscriptionStore(pools, o.queryTimeoutMs ?? 10_000);
}
