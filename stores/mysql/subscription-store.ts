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
 */
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import type { Subscriber, SubscriptionStore } from '../types.ts';
import { migrateMysql, type MysqlMigration } from './migrations.ts';
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
];

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
export class MysqlSubscriptionStore implements SubscriptionStore {
  readonly #pools: Pool[];
  readonly #timeout: number;

  constructor(pools: Pool[], queryTimeoutMs: number) {
    this.#pools = pools;
    this.#timeout = queryTimeoutMs;
  }

  #pool(topicId: string): Pool {
    return this.#pools[shardOf(topicId, this.#pools.length)]!;
  }

  async subscribe(topicId: string, userId: string, atMs: number): Promise<{ created: boolean }> {
    return onMysql('subscriptions.subscribe', async () => {
      try {
        await this.#pool(topicId).query({ sql: 'INSERT INTO subscriptions (topic_id, user_id, subscribed_at) VALUES (?, ?, ?)', timeout: this.#timeout }, [topicId, userId, atMs]);
        return { created: true };
      } catch (err) {
        // Only a duplicate key means "already subscribed" (an open period exists); others propagate.
        if ((err as { code?: string }).code === 'ER_DUP_ENTRY') return { created: false };
        throw err;
      }
    });
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
  const pools = o.shards.map((uri) =>
    mysql.createPool({ uri, connectionLimit: o.connectionsPerShard ?? 8, connectTimeout: 5_000, charset: 'utf8mb4_general_ci', enableKeepAlive: true }),
  );
  try {
    if (o.migrate !== false) for (const pool of pools) await migrateMysql(pool, SUBSCRIPTION_MIGRATIONS);
  } catch (err) {
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    throw err;
  }
  return new MysqlSubscriptionStore(pools, o.queryTimeoutMs ?? 10_000);
}
