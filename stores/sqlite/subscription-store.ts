/**
 * SubscriptionStore on SQLite: `subscriptions (topic_id, user_id)` WITHOUT ROWID (the fan-out
 * lookup reads one contiguous key range per topic) plus the reverse index (user_id, topic_id).
 *
 * Batch lookup: one statement `topic_id IN (SELECT value FROM json_each(?))` with the topic ids as
 * one JSON array parameter. Measured against chunked `IN (?, …)` of 500 parameters (20,000 topics,
 * batches of 500, 1/10/30 subscribers each): equal within ±10 % (row materialisation dominates),
 * and json_each has no parameter limit, needs no chunking and one prepared statement.
 */
import type Database from 'better-sqlite3';
import type { Subscriber, SubscriptionStore } from '../types.ts';
import { openDatabase, type Migration } from './open-database.ts';
import type { SqliteStoreOptions } from './options.ts';
import { runOn } from './sqlite-errors.ts';

/** Schema history of subscriptions.db. */
export const SUBSCRIPTION_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'subscriptions: create table',
    sql: `CREATE TABLE subscriptions (
      topic_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      subscribed_at INTEGER NOT NULL, -- ms since the epoch
      PRIMARY KEY (topic_id, user_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX subscriptions_by_user ON subscriptions (user_id, topic_id);`,
  },
];

type SubscriberRow = [topicId: string, userId: string, subscribedAt: number];

/** SQLite implementation of {@link SubscriptionStore}; build it with `openSqliteSubscriptionStore`. */
export class SqliteSubscriptionStore implements SubscriptionStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[string, string, number]>;
  readonly #delete: Database.Statement<[string, string]>;
  readonly #subscribers: Database.Statement<[string], SubscriberRow>;
  readonly #topics: Database.Statement<[string], string>;

  /** Opens (and migrates unless read-only) the database at `opts.path`. Throws like {@link openDatabase}. */
  constructor(opts: SqliteStoreOptions) {
    const db = openDatabase(opts, SUBSCRIPTION_MIGRATIONS);
    this.#db = db;
    // ON CONFLICT DO NOTHING, not INSERT OR IGNORE: only a duplicate key is ignored; NOT NULL / CHECK /
    // STRICT type violations still raise (OR IGNORE would skip them silently and report created=false).
    this.#insert = db.prepare(
      'INSERT INTO subscriptions (topic_id, user_id, subscribed_at) VALUES (?, ?, ?) ON CONFLICT (topic_id, user_id) DO NOTHING',
    );
    this.#delete = db.prepare('DELETE FROM subscriptions WHERE topic_id = ? AND user_id = ?');
    this.#subscribers = db
      .prepare<[string], SubscriberRow>(
        `SELECT topic_id, user_id, subscribed_at FROM subscriptions
         WHERE topic_id IN (SELECT value FROM json_each(?))
         ORDER BY topic_id, user_id`,
      )
      .raw(true);
    this.#topics = db.prepare<[string], string>('SELECT topic_id FROM subscriptions WHERE user_id = ? ORDER BY topic_id').pluck(true);
  }

  async subscribe(topicId: string, userId: string, atMs: number): Promise<{ created: boolean }> {
    return runOn(this.#db, 'subscriptions.subscribe', () => ({ created: this.#insert.run(topicId, userId, atMs).changes === 1 }));
  }

  async unsubscribe(topicId: string, userId: string): Promise<{ removed: boolean }> {
    return runOn(this.#db, 'subscriptions.unsubscribe', () => ({ removed: this.#delete.run(topicId, userId).changes === 1 }));
  }

  async subscribersOf(topicIds: readonly string[]): Promise<Map<string, Subscriber[]>> {
    return runOn(this.#db, 'subscriptions.subscribersOf', () => {
      const result = new Map<string, Subscriber[]>();
      for (const topicId of topicIds) result.set(topicId, []);
      if (topicIds.length === 0) return result;
      for (const [topicId, userId, subscribedAt] of this.#subscribers.all(JSON.stringify(topicIds))) {
        result.get(topicId)?.push({ user_id: userId, subscribed_at: subscribedAt });
      }
      return result;
    });
  }

  async topicsOf(userId: string): Promise<string[]> {
    return runOn(this.#db, 'subscriptions.topicsOf', () => this.#topics.all(userId));
  }

  /** Closes the connection; idempotent. Later calls reject with `HERALD_STORE_REJECTED`. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
