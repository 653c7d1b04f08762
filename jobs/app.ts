/**
 * Assembles a Herald process from its settings: topology → log topics → stores → operator pool →
 * stages (consumer groups) → edge HTTP server. `start` runs every role in one process; `job` and
 * `edge` run one role each (scale-out on the kafka profile).
 */
import os from 'node:os';
import type { HeraldConfig } from '../core/config.ts';
import { logger as rootLogger, type Logger } from '../core/logger.ts';
import { ConnectionRegistry } from '../edge/sse/connection-registry.ts';
import { startEdgeServer, type EdgeServer } from '../edge/server.ts';
import { EdgeAuth } from '../edge/auth/index.ts';
import { createOperatorPool } from '../operators/runtime/operator-pool.ts';
import { createPartitionState } from '../operators/runtime/partition-state.ts';
import { parseBloomDedupOptions } from '../operators/bloom-dedup/options.ts';
import { loadTopology } from '../topology/index.ts';
import type { CompiledTopology } from '../topology/types.ts';
import { partitionFor } from '../log/murmur2.ts';
import type { LogTopicSpec } from '../log/types.ts';
import type { StreamLocator } from '../edge/routes/stream.ts';
import { startOpsServer, type OpsServer } from './ops-server.ts';
import { openProfile } from './profiles/open.ts';
import type { Profile } from './profiles/profile.ts';
import { dedupChangelogOf } from './runtime/dedup-changelog.ts';
import { startEdgeStage } from './runtime/edge-stage.ts';
import { startOperatorStage, type RunningStage } from './runtime/operator-stage.ts';
import { channelSinkOf, startChannelStage } from './runtime/channel-stage.ts';
import { channelConfigured, CHANNEL_SETTINGS, createChannelLimiter, createChannelProvider } from '../sinks/channels/providers.ts';
import type { LimiterStore } from '../sinks/channels/rate-limiter.ts';
import { PriorityGate } from '../sinks/channels/priority-gate.ts';
import { connectRedis } from '../stores/redis/client.ts';
import type { ChannelName } from '../core/types.ts';
import { HeraldError } from '../core/errors.ts';

/** Process roles. */
export type Role = 'job' | 'edge' | 'channel';

/** Options of {@link startHerald}. */
export interface StartOptions {
  /**
   * With the `channel` role: the channels to run (`herald channel email` → ['email']). Absent: every
   * channel stage of the topology whose provider is configured (the others are logged as off).
   */
  channels?: readonly ChannelName[];
}

/** A running Herald process. */
export interface HeraldApp {
  config: HeraldConfig;
  topology: CompiledTopology;
  profile: Profile;
  /** The edge server when the `edge` role runs here. */
  edge: EdgeServer | null;
  /** The /healthz + /metrics server of a process without the edge role. */
  ops: OpsServer | null;
  stages: RunningStage[];
  /** Graceful stop: stop accepting, close streams, finish in-flight batches, commit, close stores. */
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;
/** How long an edge's claim on a user partition lasts unless renewed, ms (a killed edge's lapse). */
const OWNERSHIP_LEASE_MS = 6_000;
/** How often an edge renews its claims, ms. */
const OWNERSHIP_RENEW_MS = 2_000;
/** Presence: lease of a connected user's entry, its renewal interval, and the grace after the last stream closes (ms). */
const PRESENCE_LEASE_MS = 30_000;
const PRESENCE_RENEW_MS = 10_000;
const PRESENCE_GRACE_MS = 15_000;
/** How often retention purges run, ms. */
const PURGE_INTERVAL_MS = 3_600_000; // ms: hourly

/**
 * Starts Herald with the given roles.
 * @throws HeraldError HERALD_TOPOLOGY_* for a bad topology file, HERALD_LOG_* / HERALD_STORE_* when
 *   the data directory cannot be opened, or the listen error of the HTTP server
 */
export async function startHerald(config: HeraldConfig, roles: readonly Role[] = ['job', 'edge', 'channel'], logger: Logger = rootLogger, options: StartOptions = {}): Promise<HeraldApp> {
  const topology = await loadTopology(config.topologyFile);
  const retentionMs = config.retentionDays * DAY_MS;
  const userLog = topology.stages.find((s) => s.role === 'edge')?.source.log;
  const profile = await openProfile(config, topology);
  // Kafka: each job stage with dedup state changelogs its confirm store (restored on assignment).
  const changelogs = new Map<string, LogTopicSpec>();
  if (profile.kind === 'kafka') {
    for (const stage of topology.stages) {
      const spec = stage.role === 'job' ? dedupChangelogOf(topology, stage) : null;
      if (spec) changelogs.set(stage.name, spec);
    }
  }
  try {
    // Log topics keep what the topology says; HERALD_RETENTION_DAYS is the retention of the stores.
    await profile.transport.ensureTopics([...topology.logs.map((l) => ({ name: l.name, partitions: l.partitions, retentionMs: l.retentionMs })), ...changelogs.values()]);
  } catch (err) {
    await profile.close();
    throw err;
  }
  let healthy = false;
  const stages: RunningStage[] = [];
  const threads = config.workerThreads > 0 ? config.workerThreads : Math.max(1, os.availableParallelism());
  const needsPool = roles.includes('job') && topology.stages.some((s) => s.role === 'job');
  const pool = needsPool ? createOperatorPool({ threads, heapMb: config.workerHeapMb }) : null;
  /** This edge's URL for redirects and presence (HERALD_ADVERTISED_URL, else the bound address). */
  let advertisedUrl = config.advertisedUrl;
  const presenceFailed = (err: unknown) => logger.warn({ err }, 'presence update failed');
  const registry = new ConnectionRegistry({
    pingIntervalMs: config.ssePingMs,
    maxBufferedBytes: 1024 * 1024,
    onUserConnected: (u) => void profile.presence.online([u], advertisedUrl, PRESENCE_LEASE_MS).catch(presenceFailed),
    onUserDisconnected: (u) => void profile.presence.offline(u, advertisedUrl, PRESENCE_GRACE_MS).catch(presenceFailed),
  });
  const producer = profile.transport.createProducer();
  let edge: EdgeServer | null = null;
  let ops: OpsServer | null = null;
  // Kafka profile: the user partitions this edge owns; streams of other users are redirected.
  const owned = new Set<number>();
  const ownership = profile.ownership;
  const locateStream: StreamLocator | undefined =
    ownership && userLog
      ? async (userId) => {
          const p = partitionFor(userId, profile.transport.partitionCount(userLog));
          if (owned.has(p)) return { kind: 'here' };
          let owner: string | null;
          try {
            owner = await ownership.ownerOf(userLog, p);
          } catch (err) {
            // Ownership store down: the client retries after Retry-After instead of failing.
            logger.warn({ err }, 'edge ownership lookup failed');
            return { kind: 'unknown' };
          }
          return owner === null || owner === advertisedUrl ? { kind: 'unknown' } : { kind: 'redirect', url: owner };
        }
      : undefined;
  /** Closed after the stages, before the profile. */
  const closers: (() => Promise<void>)[] = [];

  try {
    if (roles.includes('edge')) {
      edge = await startEdgeServer(
        {
          logger,
          subscriptions: profile.subscriptions,
          inbox: profile.inbox,
          idempotency: profile.idempotency,
          userChannels: profile.userChannels,
          templates: profile.templates,
          allowPrivatePushEndpoints: config.pushAllowPrivateEndpoints,
          deliveryStatuses: profile.deliveryStatuses,
          producer,
          publishLog: publishLogOf(topology),
          registry,
          maxMessageBytes: config.maxMessageBytes,
          locateStream,
          isHealthy: () => healthy,
          auth: new EdgeAuth({ publisherKeys: config.publisherKeys, tokenSecret: config.tokenSecret }),
          corsOrigins: config.corsOrigins,
        },
        config.host,
        config.port,
      );
      if (advertisedUrl === '') advertisedUrl = edge.url;
      if (config.publisherKeys.length === 0) {
        logger.warn(
          { auth: 'off' },
          'AUTH IS OFF: anyone who can reach this edge can publish, manage subscriptions and read every user\'s notifications. Set HERALD_PUBLISHER_KEYS and HERALD_TOKEN_SECRET before exposing it.',
        );
      }
    } else {
      ops = await startOpsServer(config.host, config.port, () => healthy);
    }
    /** Per channel: its provider, rate limiter and priority gate, shared by its stages (lanes). */
    const channelLanes = new Map<ChannelName, { provider: ReturnType<typeof createChannelProvider>; limiter: ReturnType<typeof createChannelLimiter>; gate: PriorityGate }>();
    for (const stage of topology.stages) {
      if (!roles.includes(stage.role)) continue;
      if (stage.role === 'channel') {
        const channel = channelSinkOf(stage).options.channel;
        if (options.channels !== undefined && !options.channels.includes(channel)) continue;
        if (!channelConfigured(config, channel)) {
          if (options.channels !== undefined) throw new HeraldError('HERALD_CONFIG_INVALID', `The ${channel} channel is not configured: set ${CHANNEL_SETTINGS[channel]}.`);
          logger.info({ stage: stage.name, channel }, `${channel} channel off: set ${CHANNEL_SETTINGS[channel]} to send; its log keeps the records until then`);
          continue;
        }
        // One provider, limiter and priority gate per channel, shared by its lanes (one budget).
        let lane = channelLanes.get(channel);
        if (lane === undefined) {
          const provider = createChannelProvider(config, channel);
          closers.push(() => provider.close());
          let limiterStore: LimiterStore = { kind: 'memory' };
          if (config.profile === 'kafka' && config.redisUrl !== '') {
            // One budget for every worker of the deployment.
            const redis = connectRedis({ url: config.redisUrl });
            closers.push(async () => void redis.disconnect());
            limiterStore = { kind: 'redis', redis };
          }
          lane = { provider, limiter: createChannelLimiter(config, channel, provider.name, limiterStore), gate: new PriorityGate() };
          channelLanes.set(channel, lane);
        }
        stages.push(
          await startChannelStage({
            stage,
            gate: lane.gate,
            transport: profile.transport,
            provider: lane.provider,
            limiter: lane.limiter,
            statuses: profile.deliveryStatuses,
            userChannels: profile.userChannels,
            logger,
            pushTtlSeconds: config.pushTtlSeconds,
          }),
        );
      } else if (stage.role === 'job') {
        stages.push(
          await startOperatorStage({ stage, transport: profile.transport, changelog: changelogs.get(stage.name)?.name, pool: pool!, dedup: profile.dedup, storeSpecs: profile.storeSpecs, logger, createPartitionState: (s, p) => createPartitionState(s, p, profile.dedup) }),
        );
      } else {
        const writers = profile.createInboxWriters();
        closers.push(async () => {
          for (const w of writers) await w.close();
        });
        const userPartitions = () => profile.transport.partitionCount(stage.source.log);
        stages.push(
          await startEdgeStage({
            stage,
            transport: profile.transport,
            writers,
            live: registry,
            preferencesOf: (users) => profile.userChannels.preferencesOf(users),
            logger,
            onAssigned: async (ps) => {
              for (const p of ps) owned.add(p);
              // A failed claim must not hold up delivery: the renewal retries it every few seconds.
              await ownership?.claim(stage.source.log, ps, advertisedUrl, OWNERSHIP_LEASE_MS).catch((err: unknown) => logger.warn({ err, partitions: ps }, 'claiming user partitions failed; the renewal will retry'));
            },
            onRevoked: async (ps) => {
              for (const p of ps) owned.delete(p);
              if (ownership) {
                const leaving = new Set(ps);
                const n = userPartitions();
                const closed = registry.closeUsers((u) => leaving.has(partitionFor(u, n)));
                await ownership.release(stage.source.log, ps, advertisedUrl).catch((err: unknown) => logger.warn({ err, partitions: ps }, 'releasing user partitions failed; the claims lapse with their lease'));
                logger.info({ partitions: ps, streamsClosed: closed }, 'user partitions left this edge; their streams reconnect to the new owner');
              }
            },
          }),
        );
      }
    }
  } catch (err) {
    await edge?.close();
    await ops?.close();
    for (const s of stages) await s.close();
    for (const close of closers) await close();
    await pool?.close();
    await profile.close();
    throw err;
  }

  const purge = async () => {
    const now = Date.now();
    const before = now - retentionMs;
    try {
      // An ended subscription is needed while a publish made before its end may still be fanned
      // out: as long as the publish log keeps records (retention).
      const [inbox, dedup, idem, subscriptions, deliveries] = await Promise.all([
        profile.inbox.purge(before),
        profile.dedup.purge(dedupPurgeBefore(topology, now, before)),
        profile.idempotency.purge(before),
        profile.subscriptions.purgeUnsubscribed(now - Math.max(retentionMs, ...topology.logs.map((l) => l.retentionMs ?? 0))),
        profile.deliveryStatuses.purge(before),
      ]);
      logger.info({ inbox, dedup, idempotency: idem, unsubscribed: subscriptions, deliveryStatuses: deliveries }, 'retention purge');
    } catch (err) {
      logger.error({ err }, 'retention purge failed; will retry');
    }
  };
  const renewTimer =
    ownership && userLog
      ? setInterval(() => {
          if (owned.size === 0) return;
          ownership.claim(userLog, [...owned], advertisedUrl, OWNERSHIP_LEASE_MS).catch((err: unknown) => logger.warn({ err }, 'renewing edge partition claims failed; will retry'));
        }, OWNERSHIP_RENEW_MS)
      : null;
  renewTimer?.unref();
  const presenceTimer = setInterval(() => {
    const users = registry.users();
    if (users.length > 0) profile.presence.online(users, advertisedUrl, PRESENCE_LEASE_MS).catch(presenceFailed);
  }, PRESENCE_RENEW_MS);
  presenceTimer.unref();
  const purgeTimer = setInterval(() => void purge(), PURGE_INTERVAL_MS);
  purgeTimer.unref();
  void purge();

  healthy = true;
  logger.info({ roles, profile: config.profile, dataDir: config.dataDir, topology: topology.name, stages: stages.map((s) => s.stage.name), url: edge?.url }, 'herald started');

  let closing: Promise<void> | null = null;
  return {
    config,
    topology,
    profile,
    edge,
    ops,
    stages,
    close() {
      closing ??= (async () => {
        healthy = false;
        clearInterval(purgeTimer);
        clearInterval(presenceTimer);
        if (renewTimer) clearInterval(renewTimer);
        await edge?.close();
        await ops?.close();
        for (const s of stages) await s.close();
        for (const close of closers) await close();
        await producer.close();
        await pool?.close();
        await profile.close();
        logger.info('herald stopped');
      })();
      return closing;
    },
  };
}

/**
 * Confirmations older than every Bloom window are never read again (a key missing from the filter
 * is new without a store lookup, and restores read only one horizon back): keep twice the
 * longest horizon, never more than retention.
 */
function dedupPurgeBefore(topology: CompiledTopology, nowMs: number, retentionBefore: number): number {
  let before = nowMs;
  for (const stage of topology.stages) {
    for (const op of stage.operators) {
      if (op.type !== 'bloom-dedup') continue;
      const o = parseBloomDedupOptions(op.options);
      before = Math.min(before, nowMs - 2 * o.windows * o.window_ms);
    }
  }
  return Math.max(before, retentionBefore);
}

/**
 * The log topic the edge appends publishes to: the source log of the first job stage that no
 * stage writes (the topology's input; e.g. not herald.fanout-pages, which the fanout stage fills).
 */
function publishLogOf(topology: CompiledTopology): string {
  const written = new Set(topology.stages.flatMap((s) => s.sinks.map((k) => k.log)));
  const first = topology.stages.find((s) => s.role === 'job' && !written.has(s.source.log));
  if (!first) throw new Error(`topology ${topology.name} has no job stage reading a log that no stage writes, so there is nowhere to publish to`);
  return first.source.log;
}
