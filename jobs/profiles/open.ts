/**
 * Opens the profile the settings name (HERALD_PROFILE): the embedded log and SQLite stores in the
 * data directory, or Kafka with the configured MySQL shards, Redis and HBase. Shared by the job
 * (jobs/app.ts) and the one-shot commands that work on its logs and stores (herald dlq replay).
 */
import type { HeraldConfig } from '../../core/config.ts';
import type { CompiledTopology } from '../../topology/types.ts';
import { openEmbeddedProfile } from './embedded.ts';
import { openKafkaProfile } from './kafka.ts';
import type { Profile } from './profile.ts';

const DAY_MS = 86_400_000;

/**
 * Opens the profile of `config` for `topology` (its edge stage's source log is the user log).
 * @throws HeraldError HERALD_LOG_* / HERALD_STORE_* when the data directory, the broker or a store
 *   cannot be opened (the embedded data directory is locked while a job runs on it)
 */
export async function openProfile(config: HeraldConfig, topology: CompiledTopology): Promise<Profile> {
  const retentionMs = config.retentionDays * DAY_MS;
  const userLog = topology.stages.find((s) => s.role === 'edge')?.source.log;
  if (config.profile === 'kafka') {
    return openKafkaProfile({
      brokers: config.kafkaBrokers,
      dataDir: config.dataDir,
      sharedStoreDir: config.sharedStoreDir,
      durability: config.durability,
      userLog: userLog ?? 'herald.user',
      mysqlShards: config.mysqlShards,
      redisUrl: config.redisUrl,
      hbaseRestUrl: config.hbaseRestUrl,
      hbaseInboxTable: config.hbaseInboxTable,
      retentionMs,
    });
  }
  return openEmbeddedProfile(config.dataDir, retentionMs, config.durability, userLog);
}
