#!/usr/bin/env -S node --max-semi-space-size=64
/**
 * The `herald` command.
 *
 *   herald start                       job + edge in one process (the default; `npm start`)
 *   herald job                         the job stages only (fan-out consumer group member)
 *   herald edge                        the edge only (HTTP API, SSE, edge consumer group member)
 *   herald channel email|sms|push      one channel's workers (its consumer group: provider sends, retries, DLQ)
 *   herald dlq replay email|sms|push   send a channel's dead letters again (after the cause is fixed)
 *   herald migrate                     apply store schema migrations and exit
 *   herald router                      consistent-hash front: proxies each user to the owning edge
 *   herald topology validate|explain|graph FILE
 *
 * Settings: env vars or --flags (see `herald --help`); invalid settings stop start-up with a
 * message naming the setting.
 *
 * Node runs with a 64 MiB young generation (`--max-semi-space-size=64`, here, in `npm start` and
 * wherever Herald is spawned): batches are short-lived buffers, and with the 16 MiB default they
 * were promoted and collected by major GCs of 100-300 ms (publish→SSE p99 336 → 154 ms at 150
 * publishes/s, measured).
 */
import { HeraldError, isHeraldError } from '../core/errors.ts';
import { SETTINGS, loadConfig, parseFlags, DEFAULTS } from '../core/config.ts';
import { logger } from '../core/logger.ts';
import { startHerald, type Role, type StartOptions } from '../jobs/app.ts';
import { CHANNEL_NAMES, type ChannelName } from '../core/types.ts';
import { migrateStores } from '../jobs/migrate.ts';
import { runTopologyCommand } from './topology-command.ts';
import { startRouter } from '../router/start.ts';
import { runTokenCommand } from './token-command.ts';
import { runDlqCommand } from './dlq-command.ts';

const HELP = `Usage: herald <command> [--flag value ...]

Commands:
  start                 run the whole job (fan-out stage + edge + configured channels) in one process
  job                   run the job stages only (kafka profile: a member of each job group)
  edge                  run an edge only (kafka profile: HTTP API, SSE, edge consumer group)
  channel email|sms|push
                        run one channel's workers (kafka profile: a member of that channel's
                        consumer group; needs the channel's provider settings below)
  dlq replay email|sms|push [--code C[,C...]] [--dry-run] [--json]
                        send a channel's dead-lettered jobs again, once the cause is fixed: those
                        still failed (not sent since), optionally only with the given error codes
  migrate               apply the store schema migrations (MySQL shards, SQLite files) and exit
  router                proxy each user's requests to the edge owning the user's partition, the rest
                        to any edge (kafka profile: HERALD_REDIS_URL, HERALD_TOPOLOGY, PORT)
  token --user U        print a user token for U (HERALD_TOKEN_SECRET; --ttl seconds, default 3600)
  topology validate F   check a topology file; prints every error with its line
  topology explain F    print stages, log topics, partitions, operators, consumer groups
  help                  this text

Settings (env var, --flag, default):
${SETTINGS.map((s) => `  ${s.env.padEnd(26)} ${s.flag.padEnd(22)} ${String(DEFAULTS[s.key])}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
  if (command === 'help' || command === '--help' || command === '-h') {
    io.stdout(HELP);
    return argv.length === 0 ? 2 : 0;
  }
  if (command === 'topology') return runTopologyCommand(rest, io);
  if (command === 'token') return runTokenCommand(rest, io);
  if (command === 'dlq') return runDlqCommand(rest, io);
  // `herald channel email`: the channel is the one positional argument.
  let channel: ChannelName | null = null;
  if (command === 'channel') {
    const name = rest[0];
    if (name === undefined || !(CHANNEL_NAMES as readonly string[]).includes(name)) {
      io.stderr(`"herald channel" needs the channel to run: herald channel ${CHANNEL_NAMES.join('|')} (got ${JSON.stringify(name ?? '')}).\n`);
      return 2;
    }
    channel = name as ChannelName;
  }
  const args = channel === null ? rest : rest.slice(1);
  /** Settings from env and flags; null (after printing usage) when stray arguments were given. */
  const settings = () => {
    const { flags, positional } = parseFlags(args);
    if (positional.length > 0) {
      io.stderr(`Unexpected argument(s): ${positional.join(' ')}\n\n${HELP}`);
      return null;
    }
    const config = loadConfig(process.env, flags);
    logger.level = config.logLevel;
    return config;
  };
  if (command === 'migrate') {
    const config = settings();
    if (config === null) return 2;
    const report = await migrateStores(config);
    io.stdout(`herald migrate: ${report.mysqlShards} MySQL shard(s), ${report.hbaseTable ? `HBase table ${report.hbaseTable}, ` : ''}SQLite stores in ${report.sqliteDirs.join(', ')}: up to date\n`);
    return 0;
  }
  if (command === 'router') {
    const config = settings();
    if (config === null) return 2;
    const router = await startRouter(config);
    io.stdout(`Herald router listening on ${router.url} (user log ${router.userLog.name}, ${router.userLog.partitions} partitions; owners from Redis at ${new URL(config.redisUrl).host})\n`);
    await untilSignal(() => router.close(), config.drainTimeoutMs);
    return 0;
  }
  const roles: Record<string, Role[]> = { start: ['job', 'edge', 'channel'], job: ['job'], edge: ['edge'], channel: ['channel'] };
  const selected = roles[command];
  if (!selected) {
    io.stderr(`Unknown command "${command}".\n\n${HELP}`);
    return 2;
  }
  const config = settings();
  if (config === null) return 2;
  if (config.profile === 'embedded' && command !== 'start') {
    // The embedded log lives in one process's data directory: a job without its edge (or the
    // reverse) would accept publishes nobody fans out, or fan out to nobody.
    throw new HeraldError(
      'HERALD_CONFIG_INVALID',
      `"herald ${command}" runs one role of the job and needs a log shared between processes: set HERALD_PROFILE=kafka and HERALD_KAFKA_BROKERS, or run "herald start" on the embedded profile.`,
    );
  }
  const startOptions: StartOptions = channel === null ? {} : { channels: [channel] };
  const app = await startHerald(config, selected, logger, startOptions);
  if (app.edge) {
    const auth = config.publisherKeys.length > 0 ? 'auth on' : 'AUTH OFF: set HERALD_PUBLISHER_KEYS and HERALD_TOKEN_SECRET before exposing it';
    io.stdout(`Herald ${command} listening on ${app.edge.url} (profile ${config.profile}, data in ${config.dataDir}, ${auth})\n`);
  }
  else if (app.ops) io.stdout(`Herald ${command} running; /healthz and /metrics on ${app.ops.url} (profile ${config.profile}, data in ${config.dataDir})\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      // Drain deadline: streams get a retry hint, offsets are committed; past it, exit anyway.
      const force = setTimeout(() => {
        logger.error({ drainTimeoutMs: config.drainTimeoutMs }, 'drain did not finish within HERALD_DRAIN_TIMEOUT_MS; exiting');
        process.exit(1);
      }, config.drainTimeoutMs);
      force.unref();
      void app.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

/** Resolves after SIGTERM/SIGINT once `close` finished; exits 1 if that takes over `deadlineMs`. */
function untilSignal(close: () => Promise<void>, deadlineMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      setTimeout(() => {
        logger.error({ drainTimeoutMs: deadlineMs }, 'drain did not finish within HERALD_DRAIN_TIMEOUT_MS; exiting');
        process.exit(1);
      }, deadlineMs).unref();
      close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isHeraldError(err)) process.stderr.write(`herald: ${err.code}: ${err.message}\n`);
    else process.stderr.write(`herald: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
