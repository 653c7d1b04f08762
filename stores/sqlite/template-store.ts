/**
 * TemplateStore on SQLite, in its own file (`templates.db`, in the shared store directory):
 * `templates (template_id, content, updated_at)` with the channel content as one JSON object
 * (TEXT, read and written whole), and `topic_settings (topic_id, critical)`. Both are small and
 * global: a few templates and topics with settings, read at publish time.
 *
 * A replaced template's `updated_at` always grows (at least the old one + 1 ms, even when two
 * writes land in one millisecond), so `(template_id, updated_at)` names one content.
 */
import type Database from 'better-sqlite3';
import type { ChannelContent } from '../../core/types.ts';
import type { NotificationTemplate, TemplateStore, TopicSettings } from '../types.ts';
import { openDatabase, type Migration } from './open-database.ts';
import type { SqliteStoreOptions } from './options.ts';
import { runOn } from './sqlite-errors.ts';

/** Schema history of templates.db. */
export const TEMPLATE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'templates: create tables',
    sql: `CREATE TABLE templates (
      template_id TEXT PRIMARY KEY,
      content TEXT NOT NULL, -- JSON ChannelContent {email?, sms?, push?}
      updated_at INTEGER NOT NULL -- ms since the epoch
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE topic_settings (
      topic_id TEXT PRIMARY KEY,
      critical INTEGER NOT NULL CHECK (critical IN (0, 1)),
      updated_at INTEGER NOT NULL -- ms since the epoch
    ) STRICT, WITHOUT ROWID;`,
  },
];

type TemplateRow = { template_id: string; content: string; updated_at: number };

const toTemplate = (r: TemplateRow): NotificationTemplate => ({ template_id: r.template_id, content: JSON.parse(r.content) as ChannelContent, updated_at: r.updated_at });

/** SQLite implementation of {@link TemplateStore}; build it with `openSqliteTemplateStore`. */
export class SqliteTemplateStore implements TemplateStore {
  readonly #db: Database.Database;
  readonly #put: Database.Statement<[string, string, number], { updated_at: number }>;
  readonly #get: Database.Statement<[string], TemplateRow>;
  readonly #delete: Database.Statement<[string]>;
  readonly #setSettings: Database.Statement<[string, number, number]>;
  readonly #settings: Database.Statement<[string], { critical: number }>;

  /** Opens (and migrates unless read-only) the database at `opts.path`. Throws like `openDatabase`. */
  constructor(opts: SqliteStoreOptions) {
    const db = openDatabase(opts, TEMPLATE_MIGRATIONS);
    this.#db = db;
    this.#put = db.prepare(
      `INSERT INTO templates (template_id, content, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (template_id) DO UPDATE SET content = excluded.content, updated_at = MAX(excluded.updated_at, templates.updated_at + 1)
       RETURNING updated_at`,
    );
    this.#get = db.prepare('SELECT template_id, content, updated_at FROM templates WHERE template_id = ?');
    this.#delete = db.prepare('DELETE FROM templates WHERE template_id = ?');
    this.#setSettings = db.prepare(
      `INSERT INTO topic_settings (topic_id, critical, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (topic_id) DO UPDATE SET critical = excluded.critical, updated_at = excluded.updated_at`,
    );
    this.#settings = db.prepare('SELECT critical FROM topic_settings WHERE topic_id = ?');
  }

  /** See {@link TemplateStore.putTemplate}; `updated_at` as stored is later than the replaced one's. */
  async putTemplate(template: NotificationTemplate): Promise<NotificationTemplate> {
    const content = JSON.stringify(template.content);
    const { updated_at } = runOn(this.#db, 'templates.putTemplate', () => this.#put.get(template.template_id, content, template.updated_at)!);
    return { template_id: template.template_id, content: JSON.parse(content) as ChannelContent, updated_at };
  }

  async getTemplate(templateId: string): Promise<NotificationTemplate | null> {
    const row = runOn(this.#db, 'templates.getTemplate', () => this.#get.get(templateId));
    return row === undefined ? null : toTemplate(row);
  }

  async deleteTemplate(templateId: string): Promise<boolean> {
    return runOn(this.#db, 'templates.deleteTemplate', () => this.#delete.run(templateId).changes > 0);
  }

  async setTopicSettings(topicId: string, settings: TopicSettings): Promise<TopicSettings> {
    const stored: TopicSettings = { critical: settings.critical === true };
    runOn(this.#db, 'templates.setTopicSettings', () => this.#setSettings.run(topicId, stored.critical ? 1 : 0, Date.now()));
    return stored;
  }

  async topicSettings(topicId: string): Promise<TopicSettings> {
    const row = runOn(this.#db, 'templates.topicSettings', () => this.#settings.get(topicId));
    return { critical: row?.critical === 1 };
  }

  /** Closes the connection; idempotent. Later calls reject with `HERALD_STORE_REJECTED`. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
