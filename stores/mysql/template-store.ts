/**
 * TemplateStore on MySQL (MariaDB): notification templates and per-topic settings, so every edge
 * on every machine renders the same templates.
 *
 * Only the FIRST shard of HERALD_MYSQL_SHARDS is used: templates and topic settings are few,
 * global and read at publish time (and cached), so they are not sharded; the other shards hold
 * no template tables.
 *
 * Tables (migrations 301+ in the shared `herald_schema_migrations`):
 * `templates (template_id, content, updated_at)` with the channel content as one JSON object in a
 * MEDIUMTEXT (read and written whole; html and text may be 256 KiB each), and
 * `topic_settings (topic_id, critical)`. Ids are `ascii_bin` like the subscriptions: byte order,
 * case-sensitive, never numbers.
 *
 * A replaced template's `updated_at` always grows (at least the old one + 1 ms), so
 * `(template_id, updated_at)` names one content.
 */
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import type { ChannelContent } from '../../core/types.ts';
import type { NotificationTemplate, TemplateStore, TopicSettings } from '../types.ts';
import type { MysqlMigration } from './migrations.ts';
import { openShardPools } from './pools.ts';
import { onMysql } from './mysql-errors.ts';

/** Schema history of the template tables (first shard only). */
export const TEMPLATE_MIGRATIONS: readonly MysqlMigration[] = [
  {
    version: 301,
    name: 'templates, topic_settings: create tables',
    statements: [
      `CREATE TABLE IF NOT EXISTS templates (
        template_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
        content MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'JSON ChannelContent {email?, sms?, push?}',
        updated_at BIGINT NOT NULL COMMENT 'ms since the epoch'
      ) ENGINE=InnoDB`,
      `CREATE TABLE IF NOT EXISTS topic_settings (
        topic_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
        critical TINYINT(1) NOT NULL,
        updated_at BIGINT NOT NULL COMMENT 'ms since the epoch'
      ) ENGINE=InnoDB`,
    ],
  },
];

type TemplateRow = RowDataPacket & { template_id: string; content: string; updated_at: number | string };

/** See the module comment. */
export class MysqlTemplateStore implements TemplateStore {
  readonly #pool: Pool;
  readonly #timeout: number;
  #closed = false;

  constructor(pool: Pool, queryTimeoutMs: number) {
    this.#pool = pool;
    this.#timeout = queryTimeoutMs;
  }

  /** See {@link TemplateStore.putTemplate}: upsert and read back `updated_at` in one transaction. */
  async putTemplate(template: NotificationTemplate): Promise<NotificationTemplate> {
    const content = JSON.stringify(template.content);
    const updatedAt = await onMysql('templates.putTemplate', async () => {
      const conn = await this.#pool.getConnection();
      try {
        await conn.beginTransaction();
        try {
          // content first: the updated_at expression reads the row's old value either way.
          await conn.query(
            {
              sql: `INSERT INTO templates (template_id, content, updated_at) VALUES (?, ?, ?)
                    ON DUPLICATE KEY UPDATE content = VALUES(content), updated_at = GREATEST(VALUES(updated_at), updated_at + 1)`,
              timeout: this.#timeout,
            },
            [template.template_id, content, template.updated_at],
          );
          const [rows] = await conn.query<TemplateRow[]>({ sql: 'SELECT updated_at FROM templates WHERE template_id = ?', timeout: this.#timeout }, [template.template_id]);
          await conn.commit();
          return Number(rows[0]!.updated_at);
        } catch (err) {
          await conn.rollback().catch(() => {});
          throw err;
        }
      } finally {
        conn.release();
      }
    });
    return { template_id: template.template_id, content: JSON.parse(content) as ChannelContent, updated_at: updatedAt };
  }

  async getTemplate(templateId: string): Promise<NotificationTemplate | null> {
    return onMysql('templates.getTemplate', async () => {
      const [rows] = await this.#pool.query<TemplateRow[]>({ sql: 'SELECT template_id, content, updated_at FROM templates WHERE template_id = ?', timeout: this.#timeout }, [templateId]);
      const r = rows[0];
      return r === undefined ? null : { template_id: r.template_id, content: JSON.parse(r.content) as ChannelContent, updated_at: Number(r.updated_at) };
    });
  }

  async deleteTemplate(templateId: string): Promise<boolean> {
    return onMysql('templates.deleteTemplate', async () => {
      const [result] = await this.#pool.query<mysql.ResultSetHeader>({ sql: 'DELETE FROM templates WHERE template_id = ?', timeout: this.#timeout }, [templateId]);
      return result.affectedRows > 0;
    });
  }

  async setTopicSettings(topicId: string, settings: TopicSettings): Promise<TopicSettings> {
    const stored: TopicSettings = { critical: settings.critical === true };
    await onMysql('templates.setTopicSettings', () =>
      this.#pool.query(
        {
          sql: `INSERT INTO topic_settings (topic_id, critical, updated_at) VALUES (?, ?, ?)
                ON DUPLICATE KEY UPDATE critical = VALUES(critical), updated_at = VALUES(updated_at)`,
          timeout: this.#timeout,
        },
        [topicId, stored.critical ? 1 : 0, Date.now()],
      ),
    );
    return stored;
  }

  async topicSettings(topicId: string): Promise<TopicSettings> {
    return onMysql('templates.topicSettings', async () => {
      const [rows] = await this.#pool.query<(RowDataPacket & { critical: number })[]>({ sql: 'SELECT critical FROM topic_settings WHERE topic_id = ?', timeout: this.#timeout }, [topicId]);
      return { critical: Number(rows[0]?.critical ?? 0) === 1 };
    });
  }

  /** Ends the pool; idempotent. Later calls reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

/** Options of {@link openMysqlTemplateStore}. */
export interface MysqlTemplateStoreOptions {
  /** The shard URLs (HERALD_MYSQL_SHARDS), `mysql://user:pass@host:port/db`; only the first is used. */
  shards: readonly string[];
  /** Connections of the pool. Default 2. */
  connections?: number;
  /** Per-query timeout, ms. Default 10 000. */
  queryTimeoutMs?: number;
}

/**
 * Connects to the first shard and applies the migrations there (see the module comment).
 * @throws RangeError when `shards` is empty
 * @throws HeraldError HERALD_STORE_FAILED (unreachable) / HERALD_STORE_REJECTED (access, SQL)
 */
export async function openMysqlTemplateStore(o: MysqlTemplateStoreOptions): Promise<MysqlTemplateStore> {
  const uri = o.shards[0];
  if (uri === undefined) throw new RangeError('openMysqlTemplateStore needs at least one shard URL');
  const pool = (await openShardPools([uri], o.connections ?? 2, TEMPLATE_MIGRATIONS))[0]!;
  return new MysqlTemplateStore(pool, o.queryTimeoutMs ?? 10_000);
}
