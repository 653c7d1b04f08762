/**
 * DeliveryStatusStore on SQLite (`delivery-status.db`): one row per (notification, user, channel)
 * send, primary key = the send key `<notification id>:<user_id>:<channel>`, plus an index by
 * (notification_id, user_id) for GET /notifications/{id}/deliveries and one by age for purge.
 * The upsert keeps a final state (sent, failed, gone, skipped): a late retry record never turns a
 * sent message back into retrying.
 */
import type Database from 'better-sqlite3';
import type { DeliveryStatus, DeliveryStatusStore } from '../types.ts';
import { openDatabase, type Migration } from './open-database.ts';
import { SQLITE_DEFAULTS, type SqliteStoreOptions } from './options.ts';
import { purgeInChunks } from './purge-in-chunks.ts';
import { runOn } from './sqlite-errors.ts';

/** Schema history of delivery-status.db. */
export const DELIVERY_STATUS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'delivery status: create table',
    sql: `CREATE TABLE delivery_status (
      key TEXT NOT NULL PRIMARY KEY,
      notification_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
      state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'retrying', 'failed', 'gone', 'skipped')),
      attempts INTEGER NOT NULL,
      provider_id TEXT,
      last_error TEXT,
      updated_at INTEGER NOT NULL -- ms since the epoch
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX delivery_status_by_notification ON delivery_status (notification_id, user_id);
    CREATE INDEX delivery_status_by_age ON delivery_status (updated_at);`,
  },
];

/** States after which a send is never attempted again. */
const FINAL = "('sent', 'failed', 'gone', 'skipped')";

type Row = { key: string; notification_id: string; user_id: string; channel: DeliveryStatus['channel']; state: DeliveryStatus['state']; attempts: number; provider_id: string | null; last_error: string | null; updated_at: number };

function toStatus(r: Row): DeliveryStatus {
  const s: DeliveryStatus = { key: r.key, notification_id: r.notification_id, user_id: r.user_id, channel: r.channel, state: r.state, attempts: r.attempts, updated_at: r.updated_at };
  if (r.provider_id !== null) s.provider_id = r.provider_id;
  if (r.last_error !== null) s.last_error = r.last_error;
  return s;
}

/** See the module comment. */
export class SqliteDeliveryStatusStore implements DeliveryStatusStore {
  readonly #db: Database.Database;
  readonly #select: Database.Statement<[string], Row>;
  readonly #upsert: Database.Statement<Record<string, unknown>>;
  readonly #byNotification: Database.Statement<[string, string], Row>;
  readonly #purge: Database.Statement<[number, number]>;
  readonly #reopen: Database.Statement<[string, number, string]>;
  readonly #recordMany: (statuses: readonly DeliveryStatus[]) => void;

  /** Opens (and migrates) the database at `opts.path`. Throws like openDatabase. */
  constructor(opts: SqliteStoreOptions) {
    const db = openDatabase(opts, DELIVERY_STATUS_MIGRATIONS);
    this.#db = db;
    this.#select = db.prepare<[string], Row>('SELECT * FROM delivery_status WHERE key IN (SELECT value FROM json_each(?))');
    this.#upsert = db.prepare(
      `INSERT INTO delivery_status (key, notification_id, user_id, channel, state, attempts, provider_id, last_error, updated_at)
       VALUES (@key, @notification_id, @user_id, @channel, @state, @attempts, @provider_id, @last_error, @updated_at)
       ON CONFLICT (key) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, provider_id = excluded.provider_id,
         last_error = excluded.last_error, updated_at = excluded.updated_at
       WHERE delivery_status.state NOT IN ${FINAL}`,
    );
    this.#byNotification = db.prepare<[string, string], Row>('SELECT * FROM delivery_status WHERE notification_id = ? AND user_id = ? ORDER BY channel, key');
    this.#purge = db.prepare<[number, number]>('DELETE FROM delivery_status WHERE key IN (SELECT key FROM delivery_status WHERE updated_at < ? LIMIT ?)');
    this.#reopen = db.prepare<[string, number, string]>(
      "UPDATE delivery_status SET state = 'retrying', last_error = ?, updated_at = ? WHERE key IN (SELECT value FROM json_each(?)) AND state = 'failed'",
    );
    this.#recordMany = db.transaction((statuses: readonly DeliveryStatus[]) => {
      for (const s of statuses) this.#upsert.run({ ...s, provider_id: s.provider_id ?? null, last_error: s.last_error ?? null });
    });
  }

  async statusOf(keys: readonly string[]): Promise<Map<string, DeliveryStatus>> {
    return runOn(this.#db, 'deliveryStatus.statusOf', () => {
      const out = new Map<string, DeliveryStatus>();
      if (keys.length === 0) return out;
      for (const r of this.#select.all(JSON.stringify(keys))) out.set(r.key, toStatus(r));
      return out;
    });
  }

  async record(statuses: readonly DeliveryStatus[]): Promise<void> {
    if (statuses.length === 0) return;
    runOn(this.#db, 'deliveryStatus.record', () => this.#recordMany(statuses));
  }

  async deliveriesOf(notificationId: string, userId: string): Promise<DeliveryStatus[]> {
    return runOn(this.#db, 'deliveryStatus.deliveriesOf', () => this.#byNotification.all(notificationId, userId).map(toStatus));
  }

  async reopen(sends: readonly { key: string; user_id: string }[], reason: string, nowMs: number): Promise<number> {
    if (sends.length === 0) return 0;
    return runOn(this.#db, 'deliveryStatus.reopen', () => this.#reopen.run(reason, nowMs, JSON.stringify(sends.map((s) => s.key))).changes);
  }

  async purge(beforeMs: number): Promise<number> {
    return purgeInChunks(this.#db, 'deliveryStatus.purge', this.#purge, beforeMs, SQLITE_DEFAULTS.purgeChunkSize);
  }

  /** Closes the connection; idempotent. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
