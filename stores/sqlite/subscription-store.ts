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
  {
    version: 2,
    name: 'subscriptions: one row per subscription period, ended ones kept until purged',
    sql: `CREATE TABLE subscription_periods (
      topic_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      subscribed_at INTEGER NOT NULL, -- ms since the epoch
      unsubscribed_at INTEGER, -- ms since the epoch; NULL while subscribed
      PRIMARY KEY (topic_id, user_id, subscribed_at)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO subscription_periods (topic_id, user_id, subscribed_at) SELECT topic_id, user_id, subscribed_at FROM subscriptions;
    DROP TABLE subscriptions;
    ALTER TABLE subscription_periods RENAME TO subscriptions;
    -- at most one open period per (topic, user)
    CREATE UNIQUE INDEX subscriptions_open ON subscriptions (topic_id, user_id) WHERE unsubscribed_at IS NULL;
    CREATE INDEX subscriptions_by_user ON subscriptions (user_id, topic_id) WHERE unsubscribed_at IS NULL;`,
  },
];

type SubscriberRow = [topicId: string, userId: string, subscribedAt: number, unsubscribedAt: number | null];

/** SQLite implementation of {@link SubscriptionStore}; build it with `openSqliteSubscriptionStore`. */
export class SqliteSubscriptionStore implements SubscriptionStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[string, string, number]>;
  readonly #end: Database.Statement<[number, string, string]>;
  readonly #purge: Database.Statement<[number]>;
  readonly #subscribers: Database.Statement<[string], SubscriberRow>;
  readonly #topics: Database.Statement<[string], string>;

  /** Opens (and migrates unless read-only) the database at `opts.path`. Throws like {@link openDatabase}. */
  constructor(opts: SqliteStoreOptions) {
    const db = openDatabase(opts, SUBSCRIPTION_MIGRATIONS);
    this.#db = db;
    // ON CONFLICT DO NOTHING, not INSERT OR IGNORE: only a uniqueness conflict (an open period
    // exists) is ignored; NOT NULL / CHECK / STRICT violations still raise.
    this.#insert = db.prepare('INSERT INTO subscriptions (topic_id, user_id, subscribed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    this.#end = db.prepare('UPDATE subscriptions SET unsubscribed_at = ? WHERE topic_id = ? AND user_id = ? AND unsubscribed_at IS NULL');
    this.#purge = db.prepare('DELETE FROM subscriptions WHERE unsubscribed_at < ?');
    this.#subscribers = db
      .prepare<[string], SubscriberRow>(
        `SELECT topic_id, user_id, subscribed_at, unsubscribed_at FROM subscriptions
         WHERE topic_id IN (SELECT value FROM json_each(?))
         ORDER BY topic_id, user_id, subscribed_at`,
      )
      .raw(true);
    this.#topics = db.prepare<[string], string>('SELECT topic_id FROM subscriptions WHERE user_id = ? AND unsubscribed_at IS NULL ORDER BY topic_id').pluck(true);
  }

  async subscribe(topicId: string, userId: string, atMs: number): Promise<{ created: boolean }> {
    return runOn(this.#db, 'subscriptions.subscribe', () => ({ created: this.#insert.run(topicId, userId, atMs).changes === 1 }));
  }

  async unsubscribe(topicId: string, userId: string, atMs: number = Date.now()): Promise<{ removed: boolean }> {
    return runOn(this.#db, 'subscriptions.unsubscribe', () => ({ removed: this.#end.run(atMs, topicId, userId).changes === 1 }));
  }

  async purgeUnsubscribed(beforeMs: number): Promise<number> {
    return runOn(this.#db, 'subscriptions.purgeUnsubscribed', () => this.#purge.run(beforeMs).changes);
  }

  async subscribersOf(topicIds: readonly string[]): Promise<Map<string, Subscriber[]>> {
    return runOn(this.#db, 'subscriptions.subscribersOf', () => {
      const result = new Map<string, Subscriber[]>();
      for (const topicId of topicIds) result.set(topicId, []);
      if (topicIds.length === 0) return result;
      for (const [topicId, userId, subscribedAt, unsubscribedAt] of this.#subscribers.all(JSON.stringify(topicIds))) {
        result.get(topicId)?.push(unsubscribedAt === null ? { user_id: userId, subscribed_at: subscribedAt } : { user_id: userId, subscribed_at: subscribedAt, unsubscribed_at: unsubscribedAt });
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
