/**
 * UserChannelStore on SQLite, in its own file (`user-channels.db`, next to subscriptions.db):
 * `user_channels (user_id, email, phone, push)` with the push subscriptions as one JSON array
 * (TEXT), and `user_preferences (user_id, prefs)` with the preferences as one JSON object. Both
 * are read and written whole (PUT semantics), so JSON columns cost nothing; batch reads are one
 * statement `user_id IN (SELECT value FROM json_each(?))`, like the subscription lookups.
 */
import type Database from 'better-sqlite3';
import type { UserChannelSettings, UserChannelStore, UserPreferences } from '../types.ts';
import { emptyChannelSettings, emptyPreferences, normalizeChannelSettings, normalizePreferences, parsePreferencesJson, parsePushJson } from '../user-channels.ts';
import { openDatabase, type Migration } from './open-database.ts';
import type { SqliteStoreOptions } from './options.ts';
import { runOn } from './sqlite-errors.ts';

/** Schema history of user-channels.db. */
export const USER_CHANNEL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'user-channels: create tables',
    sql: `CREATE TABLE user_channels (
      user_id TEXT PRIMARY KEY,
      email TEXT, -- NULL: none
      phone TEXT, -- E.164; NULL: none
      push TEXT NOT NULL DEFAULT '[]', -- JSON array of {endpoint, keys: {p256dh, auth}}
      updated_at INTEGER NOT NULL -- ms since the epoch
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE user_preferences (
      user_id TEXT PRIMARY KEY,
      prefs TEXT NOT NULL, -- JSON {channels, topics}
      updated_at INTEGER NOT NULL -- ms since the epoch
    ) STRICT, WITHOUT ROWID;`,
  },
];

type ChannelRow = { user_id: string; email: string | null; phone: string | null; push: string };

/** SQLite implementation of {@link UserChannelStore}; build it with `openSqliteUserChannelStore`. */
export class SqliteUserChannelStore implements UserChannelStore {
  readonly #db: Database.Database;
  readonly #upsertChannels: Database.Statement<[string, string | null, string | null, string, number]>;
  readonly #channels: Database.Statement<[string], ChannelRow>;
  readonly #upsertPrefs: Database.Statement<[string, string, number]>;
  readonly #prefs: Database.Statement<[string], { user_id: string; prefs: string }>;
  readonly #pushOf: Database.Statement<[string], string>;
  readonly #setPush: Database.Statement<[string, number, string]>;
  readonly #removePush: (userId: string, endpoint: string) => boolean;

  /** Opens (and migrates unless read-only) the database at `opts.path`. Throws like `openDatabase`. */
  constructor(opts: SqliteStoreOptions) {
    const db = openDatabase(opts, USER_CHANNEL_MIGRATIONS);
    this.#db = db;
    this.#upsertChannels = db.prepare(
      `INSERT INTO user_channels (user_id, email, phone, push, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, push = excluded.push, updated_at = excluded.updated_at`,
    );
    this.#channels = db.prepare('SELECT user_id, email, phone, push FROM user_channels WHERE user_id IN (SELECT value FROM json_each(?))');
    this.#upsertPrefs = db.prepare(
      `INSERT INTO user_preferences (user_id, prefs, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at`,
    );
    this.#prefs = db.prepare('SELECT user_id, prefs FROM user_preferences WHERE user_id IN (SELECT value FROM json_each(?))');
    this.#pushOf = db.prepare<[string], string>('SELECT push FROM user_channels WHERE user_id = ?').pluck(true);
    this.#setPush = db.prepare('UPDATE user_channels SET push = ?, updated_at = ? WHERE user_id = ?');
    // IMMEDIATE: read-modify-write of one user's list under the write lock (other processes share the file).
    const remove = db.transaction((userId: string, endpoint: string): boolean => {
      const text = this.#pushOf.get(userId);
      if (text === undefined) return false;
      const push = parsePushJson(text);
      const kept = push.filter((s) => s.endpoint !== endpoint);
      if (kept.length === push.length) return false;
      this.#setPush.run(JSON.stringify(kept), Date.now(), userId);
      return true;
    });
    this.#removePush = (userId, endpoint) => remove.immediate(userId, endpoint);
  }

  /** See {@link UserChannelStore.setChannels}. @throws RangeError over the push limit */
  async setChannels(userId: string, settings: UserChannelSettings): Promise<UserChannelSettings> {
    const stored = normalizeChannelSettings(settings);
    runOn(this.#db, 'userChannels.setChannels', () => this.#upsertChannels.run(userId, stored.email, stored.phone, JSON.stringify(stored.push), Date.now()));
    return stored;
  }

  async channelsOf(userIds: readonly string[]): Promise<Map<string, UserChannelSettings>> {
    const out = new Map<string, UserChannelSettings>();
    for (const id of userIds) out.set(id, emptyChannelSettings());
    if (userIds.length === 0) return out;
    return runOn(this.#db, 'userChannels.channelsOf', () => {
      for (const r of this.#channels.all(JSON.stringify([...new Set(userIds)]))) out.set(r.user_id, { email: r.email, phone: r.phone, push: parsePushJson(r.push) });
      return out;
    });
  }

  /** See {@link UserChannelStore.setPreferences}. @throws RangeError over the topic limit */
  async setPreferences(userId: string, prefs: UserPreferences): Promise<UserPreferences> {
    const stored = normalizePreferences(prefs);
    runOn(this.#db, 'userChannels.setPreferences', () => this.#upsertPrefs.run(userId, JSON.stringify(stored), Date.now()));
    return stored;
  }

  async preferencesOf(userIds: readonly string[]): Promise<Map<string, UserPreferences>> {
    const out = new Map<string, UserPreferences>();
    for (const id of userIds) out.set(id, emptyPreferences());
    if (userIds.length === 0) return out;
    return runOn(this.#db, 'userChannels.preferencesOf', () => {
      for (const r of this.#prefs.all(JSON.stringify([...new Set(userIds)]))) out.set(r.user_id, parsePreferencesJson(r.prefs));
      return out;
    });
  }

  async removePushSubscription(userId: string, endpoint: string): Promise<{ removed: boolean }> {
    return runOn(this.#db, 'userChannels.removePushSubscription', () => ({ removed: this.#removePush(userId, endpoint) }));
  }

  /** Closes the connection; idempotent. Later calls reject with `HERALD_STORE_REJECTED`. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
