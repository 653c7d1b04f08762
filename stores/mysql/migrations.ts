/**
 * Versioned schema migrations of a MySQL database, applied at start (and by `herald migrate`):
 * `herald_schema_migrations (version, name, applied_at)` records what ran; a named lock
 * (GET_LOCK) serialises instances that start together, so each migration runs once per shard.
 */
import type { Pool } from 'mysql2/promise';
import { onMysql } from './mysql-errors.ts';

/** One schema step; `statements` run in order. */
export interface MysqlMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

const LOCK = 'herald_schema_migrations';
const LOCK_WAIT_S = 60;

/**
 * Applies the migrations newer than the database's version, in order.
 * @returns versions applied now
 * @throws HeraldError HERALD_STORE_FAILED (connection, lock timeout) / HERALD_STORE_REJECTED (SQL)
 */
export async function migrateMysql(pool: Pool, migrations: readonly MysqlMigration[]): Promise<number[]> {
  return onMysql('migrate', async () => {
    const conn = await pool.getConnection();
    try {
      const [[lock]] = (await conn.query('SELECT GET_LOCK(?, ?) AS ok', [LOCK, LOCK_WAIT_S])) as unknown as [{ ok: number }[]];
      if (lock?.ok !== 1) throw Object.assign(new Error(`could not take the migration lock within ${LOCK_WAIT_S} s`), { code: 'ER_LOCK_WAIT_TIMEOUT' });
      try {
        await conn.query(`CREATE TABLE IF NOT EXISTS herald_schema_migrations (
          version INT NOT NULL PRIMARY KEY,
          name VARCHAR(200) NOT NULL,
          applied_at BIGINT NOT NULL
        ) ENGINE=InnoDB`);
        const [rows] = (await conn.query('SELECT version FROM herald_schema_migrations')) as unknown as [{ version: number }[]];
        const done = new Set(rows.map((r) => r.version));
        const applied: number[] = [];
        for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
          if (done.has(m.version)) continue;
          // MySQL DDL commits implicitly: each statement is its own step; the version row is last.
          for (const sql of m.statements) await conn.query(sql);
          await conn.query('INSERT INTO herald_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()]);
          applied.push(m.version);
        }
        return applied;
      } finally {
        await conn.query('SELECT RELEASE_LOCK(?)', [LOCK]);
      }
    } finally {
      conn.release();
    }
  });
}
