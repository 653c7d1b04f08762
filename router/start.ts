/**
 * `herald router`: a consistent-hash front for deployments without a load balancer that routes by
 * user. It reads which edge owns which user-log partition from Redis (the claims every
 * `herald edge` keeps there on the kafka profile), sends each user's requests to the owner of
 * `partitionFor(user_id, partitions)` and everything else to any edge, proxying both ways (see
 * docs/decisions.md, "herald router").
 *
 * Settings (core/config.ts): HERALD_PROFILE=kafka, HERALD_REDIS_URL (the edges' Redis),
 * HERALD_TOPOLOGY (the user log's name and partition count), PORT, HERALD_HOST, HERALD_LOG_LEVEL.
 * The router needs no broker and no data directory.
 */
import type { HeraldConfig } from '../core/config.ts';
import { HeraldError } from '../core/errors.ts';
import { logger as rootLogger, type Logger } from '../core/logger.ts';
import { connectRedis, redisReady } from '../stores/redis/client.ts';
import { RedisOwnershipStore } from '../stores/redis/ownership-store.ts';
import { loadTopology } from '../topology/index.ts';
import type { CompiledTopology } from '../topology/types.ts';
import { ownerEdges, ownerRefreshFailures, ownerRefreshSeconds, unownedPartitions } from './metrics.ts';
import { OwnerMap } from './owner-map.ts';
import { startRouterServer, type RouterServer } from './server.ts';

/** How often the router re-reads every partition's owner, ms. */
const OWNER_REFRESH_MS = 1_000;
/** How long `herald router` waits for Redis at start-up, ms. */
const REDIS_READY_MS = 5_000;

/** A running `herald router`. */
export interface RouterApp {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The user log: name and partition count. */
  userLog: { name: string; partitions: number };
  /** The partition → edge map, refreshed from Redis every second. */
  owners: OwnerMap;
  /** The HTTP server. */
  server: RouterServer;
  /** Stops accepting, cuts proxied streams (clients reconnect), stops the refresh, closes Redis. */
  close(): Promise<void>;
}

/**
 * Checks that the settings can run a router.
 * @throws HeraldError HERALD_CONFIG_INVALID on the embedded profile or without HERALD_REDIS_URL
 */
export function checkRouterConfig(config: HeraldConfig): void {
  if (config.profile !== 'kafka') {
    throw new HeraldError(
      'HERALD_CONFIG_INVALID',
      '"herald router" sends each user to the edge that owns the user\'s partition, which exists only on the kafka profile (the embedded profile is one process: send requests to it directly). Set HERALD_PROFILE=kafka (or --profile kafka) and HERALD_REDIS_URL to the Redis your edges use.',
    );
  }
  if (config.redisUrl === '') {
    throw new HeraldError(
      'HERALD_CONFIG_INVALID',
      '"herald router" reads which edge owns which user partition from Redis: set HERALD_REDIS_URL (or --redis-url) to the redis://host:port the edges use (edges without Redis keep ownership in SQLite, which a router cannot share).',
    );
  }
}

/**
 * The user log (source log of the topology's `edge` stage): its name and partition count.
 * @throws HeraldError HERALD_CONFIG_INVALID when the topology has no edge stage
 */
export function userLogOf(topology: CompiledTopology, file: string): { name: string; partitions: number } {
  const name = topology.stages.find((s) => s.role === 'edge')?.source.log;
  const log = topology.logs.find((l) => l.name === name);
  if (!log) throw new HeraldError('HERALD_CONFIG_INVALID', `The topology ${file} has no stage with role "edge", so there are no user partitions to route by; set HERALD_TOPOLOGY (or --topology) to the edges' topology file.`);
  return { name: log.name, partitions: log.partitions };
}

/**
 * Starts `herald router`: checks the settings, loads the topology, connects to Redis, reads the
 * owners once, then serves on host:port.
 * @throws HeraldError HERALD_CONFIG_INVALID (see {@link checkRouterConfig}, or the port cannot be
 *   bound), HERALD_TOPOLOGY_* for a bad topology file, HERALD_STORE_FAILED when Redis is not
 *   ready within 5 s
 */
export async function startRouter(config: HeraldConfig, logger: Logger = rootLogger): Promise<RouterApp> {
  checkRouterConfig(config);
  const userLog = userLogOf(await loadTopology(config.topologyFile), config.topologyFile);
  const log = logger.child({ module: 'router' });
  const redis = connectRedis({ url: config.redisUrl });
  try {
    await redisReady(redis, REDIS_READY_MS);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const store = new RedisOwnershipStore(redis);
  let failing = false;
  const owners = new OwnerMap({
    partitions: userLog.partitions,
    load: () => store.ownersOf(userLog.name, userLog.partitions),
    refreshMs: OWNER_REFRESH_MS,
    onRefresh: (seconds, err) => {
      ownerRefreshSeconds.observe(seconds);
      if (err !== undefined) {
        ownerRefreshFailures.inc();
        // One line per outage, not one per second.
        if (!failing) log.warn({ err }, 'reading edge ownership from Redis failed; routing with the last known owners');
        failing = true;
        return;
      }
      if (failing) log.info('reading edge ownership from Redis works again');
      failing = false;
      const s = owners.stats();
      ownerEdges.set(s.owners);
      unownedPartitions.set(s.unownedPartitions);
    },
  });
  await owners.start();
  let server: RouterServer;
  try {
    server = await startRouterServer({ owners, logger }, config.host, config.port);
  } catch (err) {
    owners.stop();
    redis.disconnect();
    throw err;
  }
  log.info({ url: server.url, userLog: userLog.name, partitions: userLog.partitions, ...owners.stats() }, 'herald router started');
  let closing: Promise<void> | null = null;
  return {
    url: server.url,
    userLog,
    owners,
    server,
    close() {
      closing ??= (async () => {
        await server.close();
        owners.stop();
        redis.disconnect();
        log.info('herald router stopped');
      })();
      return closing;
    },
  };
}
