/**
 * DeliveryStatusStore on MySQL (MariaDB), sharded by user_id over the subscription shards
 * (HERALD_MYSQL_SHARDS) with the same map as the user channel store (shard-map.ts:
 * murmur2(user_id) % N), so every channel worker and edge on every machine sees the same
 * once-only record of channel sends.
 *
 * Table per shard (migration 401 in the shared `herald_schema_migrations`):
 * `delivery_status (send_key, notification_id, user_id, channel, state, attempts, provider_id,
 * last_error, updated_at)`. `send_key` is the send key `<notification id>:<user_id>:<channel>`
 * (push may append `:<suffix>` per device) as VARBINARY: compared and ordered byte for byte like
 * SQLite's TEXT, whatever a suffix holds. Ids are `ascii_bin` like the other tables. An index on
 * (notification_id, user_id, channel) serves GET /notifications/{id}/deliveries already ordered
 * (InnoDB appends the primary key: channel, then key); one on updated_at serves purge.
 * No CHECK constraints on channel/state (the types guard them): MariaDB's CHECK violation (4025)
 * reaches mysql2 under another name and would map to a retriable error.
 *
 * - `record`: one multi-row `INSERT … ON DUPLICATE KEY UPDATE` per shard holding any of the
 *   statuses, in parallel. Each column keeps its stored value when the stored state is final
 *   (sent, failed, gone, skipped); `state` is assigned last because MySQL evaluates the
 *   assignments left to right, so the others still see the old state. Rows of one statement apply
 *   in order (a key twice in a batch behaves like two records); rows are sorted by key (stable) so
 *   concurrent batches lock in the same order.
 * - `statusOf`: the key carries the user_id but may not be split naively (user_ids may contain
 *   `:`, a push suffix adds parts), so each key goes to the shard of every user_id it could name
 *   (nearly always one); a key that names none is looked up on every shard. One `IN (…)` query
 *   per shard involved, in parallel.
 * - `deliveriesOf`: one query on the user's shard. `purge`: 10,000 rows per DELETE, per shard.
 */
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import type { ChannelName } from '../../core/types.ts';
import type { DeliveryStatus, DeliveryStatusStore } from '../types.ts';
import type { MysqlMigration } from './migrations.ts';
import { openShardPools, type MysqlShardsOptions } from './pools.ts';
import { onMysql } from './mysql-errors.ts';
import { shardOf } from './shard-map.ts';

/** Schema history of the delivery status table (same databases as the subscriptions). */
export const DELIVERY_STATUS_MIGRATIONS: readonly MysqlMigration[] = [
  {
    version: 401,
    name: 'delivery_status: create table',
    statements: [
      `CREATE TABLE IF NOT EXISTS delivery_status (
        send_key VARBINARY(1024) NOT NULL PRIMARY KEY COMMENT '<notification id>:<user_id>:<channel>[:<suffix>], UTF-8',
        notification_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        channel VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'email, sms, push',
        state VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'pending, retrying; final: sent, failed, gone, skipped',
        attempts INT NOT NULL,
        provider_id TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
        last_error MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
        updated_at BIGINT NOT NULL COMMENT 'ms since the epoch',
        INDEX delivery_status_by_notification (notification_id, user_id, channel),
        INDEX delivery_status_by_age (updated_at)
      ) ENGINE=InnoDB`,
    ],
  },
];

/** Rows deleted per purge statement. */
const PURGE_CHUNK_ROWS = 10_000;

/** The final states, as an SQL list: a stored final state is never overwritten. */
const FINAL = "('sent', 'failed', 'gone', 'skipped')";
const CHANNELS: ReadonlySet<string> = new Set<ChannelName>(['email', 'sms', 'push']);

const keep = (col: string) => `${col} = IF(state IN ${FINAL}, ${col}, VALUES(${col}))`;
/** `state` last: the other assignments must still see the stored state. */
const UPSERT = `INSERT INTO delivery_status (send_key, notification_id, user_id, channel, state, attempts, provider_id, last_error, updated_at) VALUES ?
  ON DUPLICATE KEY UPDATE ${['attempts', 'provider_id', 'last_error', 'updated_at', 'state'].map(keep).join(', ')}`;
const COLUMNS = 'send_key, notification_id, user_id, channel, state, attempts, provider_id, last_error, updated_at';

type Row = RowDataPacket & {
  send_key: Buffer;
  notification_id: string;
  user_id: string;
  channel: ChannelName;
  state: DeliveryStatus['state'];
  attempts: number;
  provider_id: string | null;
  last_error: string | null;
  updated_at: number | string;
};

function toStatus(r: Row): DeliveryStatus {
  const s: DeliveryStatus = {
    key: r.send_key.toString('utf8'),
    notification_id: r.notification_id,
    user_id: r.user_id,
    channel: r.channel,
    state: r.state,
    attempts: r.attempts,
    updated_at: Number(r.updated_at),
  };
  if (r.provider_id !== null) s.provider_id = r.provider_id;
  if (r.last_error !== null) s.last_error = r.last_error;
  return s;
}

/**
 * Every user_id a send key could name: `<notification id>:<user_id>:<channel>[:<suffix>]` where
 * the notification id is the first part (UUIDs hold no `:`) and the channel is the first channel
 * name after the user_id, which may itself contain `:`. Usually exactly one.
 */
export function userIdsInKey(key: string): string[] {
  const parts = key.split(':');
  const out = new Set<string>();
  for (let end = 2; end < parts.length; end++) {
    if (CHANNELS.has(parts[end]!)) out.add(parts.slice(1, end).join(':'));
  }
  out.delete('');
  return [...out];
}

/** See the module comment. */
export class MysqlDeliveryStatusStore implements DeliveryStatusStore {
  readonly #pools: Pool[];
  readonly #timeout: number;
  #closed = false;

  constructor(pools: Pool[], queryTimeoutMs: number) {
    this.#pools = pools;
    this.#timeout = queryTimeoutMs;
  }

  #shard(userId: string): number {
    return shardOf(userId, this.#pools.length);
  }

  async statusOf(keys: readonly string[]): Promise<Map<string, DeliveryStatus>> {
    const out = new Map<string, DeliveryStatus>();
    if (keys.length === 0) return out;
    const byShard = new Map<number, Buffer[]>();
    const add = (shard: number, key: string) => {
      const list = byShard.get(shard);
      if (list) list.push(Buffer.from(key, 'utf8'));
      else byShard.set(shard, [Buffer.from(key, 'utf8')]);
    };
    for (const key of new Set(keys)) {
      const users = userIdsInKey(key);
      const shards = users.length === 0 ? this.#pools.map((_, i) => i) : new Set(users.map((u) => this.#shard(u)));
      for (const s of shards) add(s, key);
    }
    return onMysql('deliveryStatus.statusOf', async () => {
      await Promise.all(
        [...byShard].map(async ([shard, list]) => {
          const [rows] = await this.#pools[shard]!.query<Row[]>({ sql: `SELECT ${COLUMNS} FROM delivery_status WHERE send_key IN (?)`, timeout: this.#timeout }, [list]);
          for (const r of rows) {
            const s = toStatus(r);
            out.set(s.key, s);
          }
        }),
      );
      return out;
    });
  }

  async record(statuses: readonly DeliveryStatus[]): Promise<void> {
    if (statuses.length === 0) return;
    const byShard = new Map<number, DeliveryStatus[]>();
    for (const s of statuses) {
      const shard = this.#shard(s.user_id);
      const list = byShard.get(shard);
      if (list) list.push(s);
      else byShard.set(shard, [s]);
    }
    await onMysql('deliveryStatus.record', async () => {
      await Promise.all(
        [...byShard].map(async ([shard, list]) => {
          // Stable: a key's records keep their batch order.
          const rows = [...list]
            .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
            .map((s) => [Buffer.from(s.key, 'utf8'), s.notification_id, s.user_id, s.channel, s.state, s.attempts, s.provider_id ?? null, s.last_error ?? null, s.updated_at]);
          await this.#pools[shard]!.query({ sql: UPSERT, timeout: this.#timeout }, [rows]);
        }),
      );
    });
  }

  async deliveriesOf(notificationId: string, userId: string): Promise<DeliveryStatus[]> {
    return onMysql('deliveryStatus.deliveriesOf', async () => {
      const [rows] = await this.#pools[this.#shard(userId)]!.query<Row[]>(
        { sql: `SELECT ${COLUMNS} FROM delivery_status WHERE notification_id = ? AND user_id = ? ORDER BY channel, send_key`, timeout: this.#timeout },
        [notificationId, userId],
      );
      return rows.map(toStatus);
    });
  }

  /** Turns `failed` statuses back into `retrying` (a DLQ replay): one UPDATE per shard involved, in parallel. */
  async reopen(sends: readonly { key: string; user_id: string }[], reason: string, nowMs: number): Promise<number> {
    if (sends.length === 0) return 0;
    const byShard = new Map<number, Buffer[]>();
    for (const s of sends) {
      const shard = this.#shard(s.user_id);
      const list = byShard.get(shard);
      if (list) list.push(Buffer.from(s.key, 'utf8'));
      else byShard.set(shard, [Buffer.from(s.key, 'utf8')]);
    }
    return onMysql('deliveryStatus.reopen', async () => {
      const counts = await Promise.all(
        [...byShard].map(async ([shard, keys]) => {
          const [r] = await this.#pools[shard]!.query<mysql.ResultSetHeader>(
            { sql: "UPDATE delivery_status SET last_error = ?, updated_at = ?, state = 'retrying' WHERE send_key IN (?) AND state = 'failed'", timeout: this.#timeout },
            [reason, nowMs, keys],
          );
          return r.affectedRows;
        }),
      );
      return counts.reduce((a, b) => a + b, 0);
    });
  }

  /** Deletes statuses last changed before `beforeMs` on every shard, {@link PURGE_CHUNK_ROWS} rows per statement. */
  async purge(beforeMs: number): Promise<number> {
    return onMysql('deliveryStatus.purge', async () => {
      let n = 0;
      for (const pool of this.#pools) {
        for (;;) {
          const [r] = await pool.query<mysql.ResultSetHeader>({ sql: `DELETE FROM delivery_status WHERE updated_at < ? LIMIT ${PURGE_CHUNK_ROWS}`, timeout: this.#timeout }, [beforeMs]);
          n += r.affectedRows;
          if (r.affectedRows < PURGE_CHUNK_ROWS) break;
        }
      }
      return n;
    });
  }

  /** Ends the shard pools; idempotent. Later calls reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#pools.map((p) => p.end()));
  }
}

/** Options of {@link openMysqlDeliveryStatusStore}. */
export type MysqlDeliveryStatusStoreOptions = MysqlShardsOptions;

/**
 * Connects to every shard and applies the migrations.
 * @throws HeraldError HERALD_STORE_FAILED (unreachable) / HERALD_STORE_REJECTED (access, SQL)
 */
export async function openMysqlDeliveryStatusStore(o: MysqlDeliveryStatusStoreOptions): Promise<MysqlDeliveryStatusStore> {
  const pools = await openShardPools(o.shards, o.connectionsPerShard ?? 4, DELIVERY_STATUS_MIGRATIONS);
  return new MysqlDeliveryStatusStore(pools, o.queryTimeoutMs ?? 10_000);
}
