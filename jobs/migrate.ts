/**
 * `herald migrate`: applies the schema migrations of every store the settings name, then exits.
 * Start-up applies them too; this runs them ahead of a deploy (e.g. before new instances start).
 *  - MySQL shards (HERALD_MYSQL_SHARDS): `herald_schema_migrations`, under a named lock.
 *  - the HBase inbox table (HERALD_HBASE_REST_URL): created with the retention as TTL if missing.
 *  - SQLite stores: the shared ones (kafka profile: HERALD_SHARED_STORE_DIR; embedded:
 *    HERALD_DATA_DIR/stores) and this instance's local dedup store.
 * The log transport is not touched.
 */
import path from 'node:path';
import type { HeraldConfig } from '../core/config.ts';
import type { LogTransport } from '../log/types.ts';
import { openMysqlIdempotencyStore } from '../stores/mysql/idempotency-store.ts';
import { openMysqlSubscriptionStore } from '../stores/mysql/subscription-store.ts';
import { openMysqlUserChannelStore } from '../stores/mysql/user-channel-store.ts';
import { openMysqlTemplateStore } from '../stores/mysql/template-store.ts';
import { openMysqlDeliveryStatusStore } from '../stores/mysql/delivery-status-store.ts';
import { openSqliteStores } from './profiles/sqlite-stores.ts';
import { openHBaseInboxStore } from '../stores/hbase/inbox-store.ts';

/** What was migrated, for the command's output. */
export interface MigrationReport {
  mysqlShards: number;
  /** The HBase inbox table ensured, or null. */
  hbaseTable: string | null;
  sqliteDirs: string[];
}

/**
 * @throws HeraldError HERALD_STORE_FAILED / HERALD_STORE_REJECTED from a store that cannot be migrated
 */
export async function migrateStores(config: HeraldConfig): Promise<MigrationReport> {
  const kafka = config.profile === 'kafka';
  const useMysql = kafka && config.mysqlShards.length > 0;
  if (useMysql) {
    await (await openMysqlSubscriptionStore({ shards: config.mysqlShards })).close();
    await (await openMysqlIdempotencyStore({ shards: config.mysqlShards })).close();
    await (await openMysqlUserChannelStore({ shards: config.mysqlShards })).close();
    await (await openMysqlTemplateStore({ shards: config.mysqlShards })).close(); // first shard only
    await (await openMysqlDeliveryStatusStore({ shards: config.mysqlShards })).close();
  }
  const local = path.join(config.dataDir, 'stores');
  const shared = kafka ? config.sharedStoreDir : local;
  // Opening migrates; the inbox routing needs no partition count until a user is looked up.
  const noTransport = { partitionCount: () => 1 } as unknown as LogTransport;
  const stores = await openSqliteStores({ sharedDir: shared, localDir: local, durability: config.durability, transport: noTransport, userLog: '', ownership: kafka && !config.redisUrl, subscriptions: !useMysql, idempotency: !useMysql, userChannels: !useMysql, templates: !useMysql, deliveryStatuses: !useMysql });
  await stores.close();
  if (kafka && config.hbaseRestUrl) {
    await (await openHBaseInboxStore({ restUrl: config.hbaseRestUrl, table: config.hbaseInboxTable, retentionMs: config.retentionDays * 86_400_000 })).close();
  }
  return { mysqlShards: useMysql ? config.mysqlShards.length : 0, hbaseTable: kafka && config.hbaseRestUrl ? config.hbaseInboxTable : null, sqliteDirs: [...new Set([shared, local])] };
}
