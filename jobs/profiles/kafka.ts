/**
 * The `kafka` profile: the log is Apache Kafka (HERALD_KAFKA_BROKERS) and the job and edge roles
 * run as separate processes that scale by consumer-group membership.
 *
 * Stores, until the MySQL/Redis/HBase stores land: the shared ones (subscriptions, Idempotency-Key
 * claims, the inbox, edge partition ownership) are SQLite files in HERALD_SHARED_STORE_DIR, which
 * every process of the deployment on this machine opens (SQLite WAL allows many processes). The
 * dedup confirm store is local to each process (HERALD_DATA_DIR) and is restored from the Kafka
 * changelog topic when a partition is assigned, like a Kafka Streams state store.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createKafkaTransport } from '../../log/kafka/index.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { Profile } from './profile.ts';
import { openSqliteStores } from './sqlite-stores.ts';
import { openHBaseInboxStore } from '../../stores/hbase/inbox-store.ts';
import { writeUserRecords } from '../../sinks/edge-delivery/inbox-writer.ts';
import { openNetworkSubscriptionStore } from '../../stores/network-subscriptions.ts';
import { openMysqlIdempotencyStore } from '../../stores/mysql/idempotency-store.ts';
import { openMysqlUserChannelStore } from '../../stores/mysql/user-channel-store.ts';
import { openMysqlTemplateStore } from '../../stores/mysql/template-store.ts';
import { openMysqlDeliveryStatusStore } from '../../stores/mysql/delivery-status-store.ts';
import { connectRedis } from '../../stores/redis/client.ts';
import { RedisOwnershipStore } from '../../stores/redis/ownership-store.ts';
import { RedisPresenceStore } from '../../stores/redis/presence-store.ts';
import { MemoryPresenceStore } from '../../stores/memory-presence.ts';
import type { PresenceStore } from '../../stores/types.ts';

/**
 * This instance's id, kept in `<dataDir>/instance-id` so it survives restarts: it names the
 * instance's transactional ids, and a restarted instance fences what its predecessor left open.
 */
function instanceIdOf(dataDir: string): string {
  const file = path.join(dataDir, 'instance-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9._-]{1,64}$/.test(id)) return id;
  } catch {
    // first start
  }
  const id = randomUUID();
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

/** Settings of {@link openKafkaProfile}. */
export interface KafkaProfileOptions {
  brokers: string;
  /** This process's own directory (lock, local dedup confirm store). */
  dataDir: string;
  /** Directory of the SQLite stores shared by every process of the deployment. */
  sharedStoreDir: string;
  durability: 'process' | 'machine';
  /** The user log topic: a user's inbox shard follows its partition there. */
  userLog: string;
  /** MySQL shard URLs for subscriptions; empty: SQLite in `sharedStoreDir`. */
  mysqlShards?: readonly string[];
  /** Redis for the subscription cache and edge ownership; empty: SQLite ownership, no cache. */
  redisUrl?: string;
  /** HBase REST gateway for the inbox; empty: SQLite inbox shards in `sharedStoreDir`. */
  hbaseRestUrl?: string;
  /** Inbox retention (the HBase column family TTL), ms. */
  retentionMs?: number;
  /** HBase table of the inbox. Default herald_inbox. */
  hbaseInboxTable?: string;
}

/**
 * Opens the kafka profile (connections to Kafka are made lazily, by ensureTopics and the stages).
 * @throws HeraldError HERALD_LOG_CLIENT_MISSING (client not built), HERALD_CONFIG_INVALID,
 *   HERALD_LOG_DIR_LOCKED, or the stores' open errors
 */
export async function openKafkaProfile(o: KafkaProfileOptions): Promise<Profile> {
  const lock = lockDataDir(o.dataDir);
  try {
    const transport = createKafkaTransport({ brokers: o.brokers, instanceId: instanceIdOf(o.dataDir) });
    const useMysql = (o.mysqlShards?.length ?? 0) > 0;
    const stores = await openSqliteStores({
      sharedDir: o.sharedStoreDir,
      localDir: path.join(o.dataDir, 'stores'),
      durability: o.durability,
      transport,
      userLog: o.userLog,
      ownership: !o.redisUrl,
      subscriptions: !useMysql,
      idempotency: !useMysql,
      userChannels: !useMysql,
      templates: !useMysql,
      deliveryStatuses: !useMysql,
    });
    const closers: (() => Promise<void>)[] = [];
    try {
      let subscriptions = stores.subscriptions;
      let idempotency = stores.idempotency;
      let userChannels = stores.userChannels;
      let templates = stores.templates;
      let deliveryStatuses = stores.deliveryStatuses;
      let storeSpecs = stores.storeSpecs;
      if (useMysql) {
        // Idempotency-Key claims in MySQL too: every edge, on any machine, sees the same claims.
        const claims = await openMysqlIdempotencyStore({ shards: [...o.mysqlShards!] });
        closers.push(() => claims.close());
        idempotency = claims;
        // Users' channel settings too, sharded by user_id over the same databases.
        const channels = await openMysqlUserChannelStore({ shards: [...o.mysqlShards!] });
        closers.push(() => channels.close());
        userChannels = channels;
        // Templates and topic settings on the first shard only: few, global, read at publish.
        const templateStore = await openMysqlTemplateStore({ shards: [...o.mysqlShards!] });
        closers.push(() => templateStore.close());
        templates = templateStore;
        // Delivery statuses too (same shard map), so every channel worker sees every send.
        const statuses = await openMysqlDeliveryStatusStore({ shards: [...o.mysqlShards!] });
        closers.push(() => statuses.close());
        deliveryStatuses = statuses;
        const shards = [...o.mysqlShards!];
        subscriptions = await openNetworkSubscriptionStore({ shards, redisUrl: o.redisUrl || undefined });
        closers.push(() => subscriptions!.close());
        storeSpecs = { ...storeSpecs, subscriptions: { kind: 'mysql', shards, ...(o.redisUrl ? { redisUrl: o.redisUrl } : {}) } };
      }
      let inbox = stores.inbox;
      let createInboxWriters = stores.createInboxWriters;
      if (o.hbaseRestUrl) {
        // HBase I/O is asynchronous HTTP: one writer on the main thread, no SQLite threads.
        const hbase = await openHBaseInboxStore({ restUrl: o.hbaseRestUrl, table: o.hbaseInboxTable, retentionMs: o.retentionMs ?? 7 * 86_400_000 });
        closers.push(() => hbase.close());
        inbox = hbase;
        createInboxWriters = () => [{ write: (records) => writeUserRecords(hbase, records), close: async () => {} }];
      }
      let ownership = stores.ownership;
      // Without Redis, presence is per process: right for one edge, partial with several.
      let presence: PresenceStore = new MemoryPresenceStore();
      if (o.redisUrl) {
        const redis = connectRedis({ url: o.redisUrl });
        closers.push(async () => void redis.disconnect());
        ownership = new RedisOwnershipStore(redis);
        presence = new RedisPresenceStore(redis);
      }
      return {
        kind: 'kafka',
        transport,
        ...stores,
        subscriptions: subscriptions!,
        idempotency: idempotency!,
        userChannels: userChannels!,
        templates: templates!,
        deliveryStatuses: deliveryStatuses!,
        inbox,
        createInboxWriters,
        ownership,
        presence,
        storeSpecs,
        async close() {
          await transport.close();
          for (const c of closers) await c();
          await stores.close();
          lock.release();
        },
      };
    } catch (err) {
      for (const c of closers) await c().catch(() => {});
      await stores.close();
      throw err;
    }
  } catch (err) {
    lock.release();
    throw err;
  }
}
