/**
 * Connection pools of MySQL shards, migrated before use: what every MySQL store opens with.
 */
import mysql, { type Pool } from 'mysql2/promise';
import { migrateMysql, type MysqlMigration } from './migrations.ts';

/** Where a sharded MySQL store connects, and how. */
export interface MysqlShardsOptions {
  /** One connection URL per shard (HERALD_MYSQL_SHARDS), `mysql://user:pass@host:port/db`. */
  shards: readonly string[];
  /** Connections per shard pool. Default 4. */
  connectionsPerShard?: number;
  /** Per-query timeout, ms. Default 10 000. */
  queryTimeoutMs?: number;
}

/**
 * One pool per shard URL (`mysql://user:pass@host:port/db`; utf8mb4, keep-alive, 5 s connect
 * timeout), each migrated with `migrations` in shard order unless `migrations` is null. On a
 * failure every pool is ended before the error is rethrown.
 * @param connections connections per pool
 * @throws HeraldError HERALD_STORE_FAILED (unreachable) / HERALD_STORE_REJECTED (access, SQL)
 */
export async function openShardPools(shards: readonly string[], connections: number, migrations: readonly MysqlMigration[] | null): Promise<Pool[]> {
  const pools = shards.map((uri) => mysql.createPool({ uri, connectionLimit: connections, connectTimeout: 5_000, charset: 'utf8mb4_general_ci', enableKeepAlive: true }));
  try {
    if (migrations !== null) for (const pool of pools) await migrateMysql(pool, migrations);
  } catch (err) {
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    throw err;
  }
  return pools;
}
