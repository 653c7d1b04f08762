/**
 * UserChannelStore on MySQL (MariaDB), sharded by user_id over the subscription shards
 * (HERALD_MYSQL_SHARDS) with the same map (shard-map.ts: murmur2(user_id) % N), so every edge and
 * channel worker on every machine reads the same settings.
 *
 * Tables per shard (migrations 201+ in the shared `herald_schema_migrations`):
 * `user_channels (user_id, email, phone, push)` with the push subscriptions as a JSON array, and
 * `user_preferences (user_id, prefs)` with the preferences as a JSON object, both MEDIUMTEXT
 * (read and written whole; 1,000 topics of preferences are ~200 KB, beyond TEXT's 64 KiB).
 * Ids are `ascii_bin` like the subscriptions: byte order, case-sensitive, never numbers.
 * Batch reads: one `user_id IN (…)` query per shard holding any of the users, in parallel.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { UserChannelSettings, UserChannelStore, UserPreferences } from '../types.ts';
import { emptyChannelSettings, emptyPreferences, normalizeChannelSettings, normalizePreferences, parsePreferencesJson, parsePushJson } from '../user-channels.ts';
import type { MysqlMigration } from './migrations.ts';
import { openShardPools, type MysqlShardsOptions } from './pools.ts';
import { onMysql } from './mysql-errors.ts';
import { groupByShard, shardOf } from './shard-map.ts';

/** Schema history of the user channel tables (same databases as the subscriptions). */
export const USER_CHANNEL_MIGRATIONS: readonly MysqlMigration[] = [
  {
    version: 201,
    name: 'user_channels, user_preferences: create tables',
    statements: [
      `CREATE TABLE IF NOT EXISTS user_channels (
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
        email VARCHAR(254) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'NULL: none',
        phone VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'E.164; NULL: none',
        push MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'JSON array of {endpoint, keys: {p256dh, auth}}',
        updated_at BIGINT NOT NULL COMMENT 'ms since the epoch'
      ) ENGINE=InnoDB`,
      `CREATE TABLE IF NOT EXISTS user_preferences (
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
        prefs MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'JSON {channels, topics}',
        updated_at BIGINT NOT NULL COMMENT 'ms since the epoch'
      ) ENGINE=InnoDB`,
    ],
  },
];

type ChannelRow = RowDataPacket & { user_id: string; email: string | null; phone: string | null; push: string };
type PrefsRow = RowDataPacket & { user_id: string; prefs: string };

/** See the module comment. */
export class MysqlUserChannelStore implements UserChannelStore {
  readonly #pools: Pool[];
  readonly #timeout: number;
  #closed = false;

  constructor(pools: Pool[], queryTimeoutMs: number) {
    this.#pools = pools;
    this.#timeout = queryTimeoutMs;
  }

  #pool(userId: string): Pool {
    return this.#pools[shardOf(userId, this.#pools.length)]!;
  }

  /** See {@link UserChannelStore.setChannels}: one upsert on the user's shard. @throws RangeError over the push limit */
  async setChannels(userId: string, settings: UserChannelSettings): Promise<UserChannelSettings> {
    const stored = normalizeChannelSettings(settings);
    await onMysql('userChannels.setChannels', () =>
      this.#pool(userId).query(
        {
          sql: `INSERT INTO user_channels (user_id, email, phone, push, updated_at) VALUES (?, ?, ?, ?, ?)
                ON DUPLICATE KEY UPDATE email = VALUES(email), phone = VALUES(phone), push = VALUES(push), updated_at = VALUES(updated_at)`,
          timeout: this.#timeout,
        },
        [userId, stored.email, stored.phone, JSON.stringify(stored.push), Date.now()],
      ),
    );
    return stored;
  }

  async channelsOf(userIds: readonly string[]): Promise<Map<string, UserChannelSettings>> {
    const out = new Map<string, UserChannelSettings>();
    for (const id of userIds) out.set(id, emptyChannelSettings());
    if (userIds.length === 0) return out;
    return onMysql('userChannels.channelsOf', async () => {
      await Promise.all(
        [...groupByShard(userIds, this.#pools.length)].map(async ([shard, ids]) => {
          const [rows] = await this.#pools[shard]!.query<ChannelRow[]>({ sql: 'SELECT user_id, email, phone, push FROM user_channels WHERE user_id IN (?)', timeout: this.#timeout }, [ids]);
          for (const r of rows) out.set(r.user_id, { email: r.email, phone: r.phone, push: parsePushJson(r.push) });
        }),
      );
      return out;
    });
  }

  /** See {@link UserChannelStore.setPreferences}: one upsert on the user's shard. @throws RangeError over the topic limit */
  async setPreferences(userId: string, prefs: UserPreferences): Promise<UserPreferences> {
    const stored = normalizePreferences(prefs);
    await onMysql('userChannels.setPreferences', () =>
      this.#pool(userId).query(
        {
          sql: `INSERT INTO user_preferences (user_id, prefs, updated_at) VALUES (?, ?, ?)
                ON DUPLICATE KEY UPDATE prefs = VALUES(prefs), updated_at = VALUES(updated_at)`,
          timeout: this.#timeout,
        },
        [userId, JSON.stringify(stored), Date.now()],
      ),
    );
    return stored;
  }

  async preferencesOf(userIds: readonly string[]): Promise<Map<string, UserPreferences>> {
    const out = new Map<string, UserPreferences>();
    for (const id of userIds) out.set(id, emptyPreferences());
    if (userIds.length === 0) return out;
    return onMysql('userChannels.preferencesOf', async () => {
      await Promise.all(
        [...groupByShard(userIds, this.#pools.length)].map(async ([shard, ids]) => {
          const [rows] = await this.#pools[shard]!.query<PrefsRow[]>({ sql: 'SELECT user_id, prefs FROM user_preferences WHERE user_id IN (?)', timeout: this.#timeout }, [ids]);
          for (const r of rows) out.set(r.user_id, parsePreferencesJson(r.prefs));
        }),
      );
      return out;
    });
  }

  /** Read-modify-write in one transaction holding the user's row lock (SELECT … FOR UPDATE). */
  async removePushSubscription(userId: string, endpoint: string): Promise<{ removed: boolean }> {
    return onMysql('userChannels.removePushSubscription', async () => {
      const conn = await this.#pool(userId).getConnection();
      try {
        await conn.beginTransaction();
        try {
          const [rows] = await conn.query<ChannelRow[]>({ sql: 'SELECT push FROM user_channels WHERE user_id = ? FOR UPDATE', timeout: this.#timeout }, [userId]);
          const push = parsePushJson(rows[0]?.push ?? null);
          const kept = push.filter((s) => s.endpoint !== endpoint);
          if (kept.length === push.length) {
            await conn.rollback();
            return { removed: false };
          }
          await conn.query({ sql: 'UPDATE user_channels SET push = ?, updated_at = ? WHERE user_id = ?', timeout: this.#timeout }, [JSON.stringify(kept), Date.now(), userId]);
          await conn.commit();
          return { removed: true };
        } catch (err) {
          await conn.rollback().catch(() => {});
          throw err;
        }
      } finally {
        conn.release();
      }
    });
  }

  /** Ends the shard pools; idempotent. Later calls reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#pools.map((p) => p.end()));
  }
}

/** Options of {@link openMysqlUserChannelStore}. */
export type MysqlUserChannelStoreOptions = MysqlShardsOptions;

/**
 * Connects to every shard and applies the migrations.
 * @throws HeraldError HERALD_STORE_FAILED (unreachable) / HERALD_STORE_REJECTED (access, SQL)
 */
export async function openMysqlUserChannelStore(o: MysqlUserChannelStoreOptions): Promise<MysqlUserChannelStore> {
  const pools = await openShardPools(o.shards, o.connectionsPerShard ?? 4, USER_CHANNEL_MIGRATIONS);
  return new MysqlUserChannelStore(pools, o.queryTimeoutMs ?? 10_000);
}
