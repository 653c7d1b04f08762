/**
 * A kafka-profile cluster of `herald <role>` child processes for one integration test: edges with
 * partition ownership and presence in the real Redis, the shared SQLite stores of one machine, one
 * worker thread each and 2 s pings (channel tests: {@link RoleCluster.startWithSms}). Each child logs to `<dir>/logs/<name>.log`; `close(passed)`
 * stops them and keeps the logs when the test failed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { userLogOf } from '../../router/start.ts';
import { connectRedis, redisReady } from '../../stores/redis/client.ts';
import { RedisOwnershipStore } from '../../stores/redis/ownership-store.ts';
import { loadTopology } from '../../topology/index.ts';
import { freePort, tempDir } from './herald.ts';
import { keepLogs, spawnHeraldRole, type HeraldRoleProcess } from './herald-process.ts';
import { freshMysqlDatabases, kafkaProfileEnv, redisUrl } from './services.ts';
import { startSmsPeer, type SmsPeer } from './sms-peer.ts';

/** See the module comment. */
export class RoleCluster {
  readonly dir: string;
  readonly logDir: string;
  readonly procs: HeraldRoleProcess[] = [];
  readonly redis = connectRedis({ url: redisUrl() });
  readonly ownership = new RedisOwnershipStore(this.redis);
  /** Settings every role gets (set by {@link start}). */
  env: Record<string, string> = {};
  /** The user log (name, partitions) of the cluster's isolated topology (set by {@link start}). */
  userLog: { name: string; partitions: number } = { name: '', partitions: 0 };
  readonly #testName: string;
  /** Removes what the cluster started besides its children (peers, databases), after they stopped. */
  readonly #cleanups: (() => Promise<void>)[] = [];

  /** @param testName names the kept-logs directory of a failed run */
  constructor(testName: string) {
    this.#testName = testName;
    this.dir = tempDir(`herald-${testName}-`);
    this.logDir = path.join(this.dir, 'logs');
  }

  /**
   * Waits for Redis and writes the isolated topology; call before spawning.
   * @param extra settings every role gets besides the cluster's (e.g. MySQL shards, a provider)
   */
  async start(extra: Record<string, string> = {}): Promise<void> {
    await redisReady(this.redis);
    this.env = kafkaProfileEnv(this.dir, {
      HERALD_REDIS_URL: redisUrl(),
      HERALD_SHARED_STORE_DIR: path.join(this.dir, 'shared'),
      HERALD_LOG_LEVEL: 'info',
      HERALD_WORKER_THREADS: '1',
      HERALD_SSE_PING_MS: '2000',
      ...extra,
    });
    this.userLog = userLogOf(await loadTopology(this.env.HERALD_TOPOLOGY!), this.env.HERALD_TOPOLOGY!);
  }

  /**
   * {@link start} for channel tests: sharded MySQL stores in 2 fresh databases and a local SMS
   * provider (the `herald channel sms` settings, `ratePerSec` sends per second); {@link close}
   * stops the peer and drops the databases.
   * @returns the SMS provider peer
   */
  async startWithSms(ratePerSec: number): Promise<SmsPeer> {
    const sms = await startSmsPeer();
    this.#cleanups.push(() => sms.stop());
    const dbs = await freshMysqlDatabases(2);
    this.#cleanups.push(dbs.drop);
    await this.start({ HERALD_MYSQL_SHARDS: dbs.urls.join(','), HERALD_SMS_URL: sms.url, HERALD_SMS_TOKEN: sms.token, HERALD_SMS_RATE_PER_SEC: String(ratePerSec) });
    return sms;
  }

  /**
   * Spawns `herald <role> [args]` as `name` (its own data directory and log file) and waits until
   * healthy, e.g. `spawn('channel', 'sms-1', ['sms'])`.
   */
  async spawn(role: 'job' | 'edge' | 'router' | 'channel', name: string, args: string[] = []): Promise<HeraldRoleProcess> {
    return spawnHeraldRole({
      name,
      role,
      args,
      port: await freePort(),
      env: { ...this.env, HERALD_DATA_DIR: path.join(this.dir, name) },
      logFile: path.join(this.logDir, `${name}.log`),
      onSpawned: (child) => this.procs.push(child),
    });
  }

  /** Owner edge URL of every user partition (null where none). */
  owners(): Promise<(string | null)[]> {
    return this.ownership.ownersOf(this.userLog.name, this.userLog.partitions);
  }

  /**
   * Stops every child (SIGTERM, then SIGKILL after 15 s), then what {@link startWithSms} started;
   * keeps the logs unless `passed`, removes the directory.
   */
  async close(passed: boolean): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop(15_000)));
    for (const cleanup of this.#cleanups.splice(0)) await cleanup();
    this.redis.disconnect();
    if (!passed) keepLogs(this.logDir, this.#testName);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
