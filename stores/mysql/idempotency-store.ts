/**
 * IdempotencyStore on MySQL: Idempotency-Key claims of POST /publish, sharded by topic_id with the
 * subscription shard map, so every edge on every machine sees the same claims.
 * `idempotency_claims (topic_id, idem_key, id, published_at, state, fingerprint, created_at)`,
 * primary key (topic_id, idem_key); ids and keys are compared byte for byte (ascii_bin / binary).
 */
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import type { IdempotencyRecord, IdempotencyStore } from '../types.ts';
import type { MysqlMigration } from './migrations.ts';
import { openShardPools } from './pools.ts';
import { onMysql } from './mysql-errors.ts';
import { shardOf } from './shard-map.ts';

/** Schema history of the claims table (same database as the subscriptions of its shard). */
export const IDEMPOTENCY_MIGRATIONS: readonly MysqlMigration[] = [
  {
    version: 101,
    name: 'idempotency_claims: create table',
    statements: [
      `CREATE TABLE IF NOT EXISTS idempotency_claims (
        topic_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        idem_key VARBINARY(1024) NOT NULL COMMENT 'the Idempotency-Key header, UTF-8 bytes',
        id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        published_at VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        state ENUM('pending', 'appended') NOT NULL,
        fingerprint VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
        created_at BIGINT NOT NULL COMMENT 'ms since the epoch',
        PRIMARY KEY (topic_id, idem_key),
        KEY idempotency_by_age (created_at)
      ) ENGINE=InnoDB`,
    ],
  },
];

type Row = RowDataPacket & IdempotencyRecord;

/** See the module comment. */
export class MysqlIdempotencyStore implements IdempotencyStore {
  readonly #pools: Pool[];
  readonly #timeout: number;
  readonly #now: () => number;

  constructor(pools: Pool[], queryTimeoutMs: number, now: () => number = Date.now) {
    this.#pools = pools;
    this.#timeout = queryTimeoutMs;
    this.#now = now;
  }

  #pool(topicId: string): Pool {
    return this.#pools[shardOf(topicId, this.#pools.length)]!;
  }

  /** INSERT; on a duplicate key, read the winner's claim (it is committed: the insert saw it). */
  async claim(topicId: string, key: string, candidate: IdempotencyRecord): Promise<{ record: IdempotencyRecord; created: boolean }> {
    return onMysql('idempotency.claim', async () => {
      const pool = this.#pool(topicId);
      try {
        await pool.query(
          { sql: 'INSERT INTO idempotency_claims (topic_id, idem_key, id, published_at, state, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', timeout: this.#timeout },
          [topicId, Buffer.from(key, 'utf8'), candidate.id, candidate.published_at, candidate.state, candidate.fingerprint, this.#now()],
        );
        return { record: { ...candidate }, created: true };
      } catch (err) {
        if ((err as { code?: string }).code !== 'ER_DUP_ENTRY') throw err;
        const [rows] = await pool.query<Row[]>(
          { sql: 'SELECT id, published_at, state, fingerprint FROM idempotency_claims WHERE topic_id = ? AND idem_key = ?', timeout: this.#timeout },
          [topicId, Buffer.from(key, 'utf8')],
        );
        const r = rows[0];
        if (r === undefined) throw new Error(`claim of ${topicId}/${key}: duplicate key but no row (purged in between); retry`);
        return { record: { id: r.id, published_at: r.published_at, state: r.state, fingerprint: r.fingerprint }, created: false };
      }
    });
  }

  async markAppended(topicId: string, key: string): Promise<void> {
    await onMysql('idempotency.markAppended', () =>
      this.#pool(topicId).query({ sql: "UPDATE idempotency_claims SET state = 'appended' WHERE topic_id = ? AND idem_key = ?", timeout: this.#timeout }, [topicId, Buffer.from(key, 'utf8')]),
    );
  }

  /** Deletes claims made before `beforeMs` on every shard, 10,000 rows per statement. */
  async purge(beforeMs: number): Promise<number> {
    return onMysql('idempotency.purge', async () => {
      let n = 0;
      for (const pool of this.#pools) {
        for (;;) {
          const [r] = await pool.query({ sql: 'DELETE FROM idempotency_claims WHERE created_at < ? LIMIT 10000', timeout: this.#timeout }, [beforeMs]);
          const deleted = (r as mysql.ResultSetHeader).affectedRows;
          n += deleted;
          if (deleted < 10_000) break;
        }
      }
      return n;
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
export async function openMysqlIdempotencyStore(o: { shards: readonly string[]; queryTimeoutMs?: number; now?: () => number }): Promise<MysqlIdempotencyStore> {
  const pools = await openShardPools(o.shards, 8, IDEMPOTENCY_MIGRATIONS);
  return new MysqlIdempotencyStore(pools, o.queryTimeoutMs ?? 10_000, o.now);
}
