/**
 * Settings of a Herald process, validated once at start-up.
 *
 * Every setting comes from an env var and may be overridden by a `--flag` (flags win). Defaults
 * live in {@link DEFAULTS}. Invalid values stop start-up with HERALD_CONFIG_INVALID naming the
 * setting, the value received and what is accepted.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeraldError } from './errors.ts';
import { LOG_LEVELS } from './logger.ts';

/** Herald's install directory: the default topology file ships there. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Validated settings. Durations in ms, sizes in bytes. */
export interface HeraldConfig {
  /** TCP port of the edge's HTTP server (0 = any free port). */
  port: number;
  /** Address the HTTP server binds to. */
  host: string;
  /**
   * Which implementations back the log and the stores. `embedded`: one process, on-disk log,
   * SQLite. `kafka`: Apache Kafka (HERALD_KAFKA_BROKERS); job and edge roles scale out as separate
   * processes.
   */
  profile: 'embedded' | 'kafka';
  /** Kafka bootstrap brokers, `host:port[,host:port]` (kafka profile). */
  kafkaBrokers: string;
  /**
   * Directory of the SQLite stores every process of one kafka-profile deployment shares on this
   * machine (subscriptions, idempotency keys, inbox, edge ownership); default `<dataDir>/shared`.
   */
  sharedStoreDir: string;
  /**
   * MySQL shards of the subscription store (kafka profile), one connection URL each, in shard-map
   * order; empty: SQLite in the shared store dir.
   */
  mysqlShards: string[];
  /** Redis (kafka profile): subscription cache, edge partition ownership; empty: none / SQLite. */
  redisUrl: string;
  /** HBase REST gateway (kafka profile): the inbox; empty: SQLite in the shared store dir. */
  hbaseRestUrl: string;
  /** HBase table of the inbox (created with the retention as TTL when missing). */
  hbaseInboxTable: string;
  /**
   * URL other edges redirect a user's stream to when this edge owns the user's partition
   * (kafka profile); default `http://<host>:<port>` as bound.
   */
  advertisedUrl: string;
  /** Absolute directory for the embedded log and SQLite stores. */
  dataDir: string;
  /** Absolute path of the topology file. */
  topologyFile: string;
  /** Retention of notifications (inbox, logs, idempotency keys), days. */
  retentionDays: number;
  /** Max size of a published message, bytes (UTF-8 of the string or of the JSON object). */
  maxMessageBytes: number;
  /** Interval of `: ping` comments on SSE streams, ms. */
  ssePingMs: number;
  /** Worker threads of the operator pool (0 = one per core, at least 1). */
  workerThreads: number;
  /**
   * JS heap limit (old generation) of each operator worker thread, MiB. Batches allocate and drop
   * much; the limit makes V8 collect instead of growing, so a worker's memory stays bounded.
   */
  workerHeapMb: number;
  /**
   * What an accepted publish survives on the embedded profile. `process`: a crash or kill -9 of
   * Herald (writes reach the OS, no fsync; like Kafka's default of relying on the page cache).
   * `machine`: also a power cut or kernel crash (log appends and SQLite commits are fsynced;
   * several times slower on ordinary disks).
   */
  durability: 'process' | 'machine';
  /** pino log level. */
  logLevel: string;
  /**
   * API keys accepted for publishing and subscription management (`Authorization: Bearer <key>`),
   * each at least 16 characters. Empty: auth is off (the embedded default; start-up warns).
   */
  publisherKeys: string[];
  /** HMAC-SHA256 secret of user tokens (at least 32 characters); required when auth is on. */
  tokenSecret: string;
  /** Browser origins allowed by CORS (`*` = any); empty: no CORS headers. */
  corsOrigins: string[];
  /** On SIGTERM/SIGINT: time to drain (close streams with a retry hint, commit offsets) before exiting anyway, ms. */
  drainTimeoutMs: number;
  /** SMTP server of the email channel, `smtp://[user:pass@]host:port` or `smtps://…`; empty: email is off. */
  smtpUrl: string;
  /** Envelope sender and From of emails: a bare address, e.g. `notify@example.com`. */
  emailFrom: string;
  /** Emails per second to the SMTP server, all workers together. */
  emailRatePerSec: number;
  /** Base URL of the HTTP SMS provider (POST {url}/v1/messages); empty: SMS is off. */
  smsUrl: string;
  /** Bearer token of the SMS provider. */
  smsToken: string;
  /** Sender id or number of SMS. */
  smsFrom: string;
  /** SMS per second to the provider, all workers together. */
  smsRatePerSec: number;
  /** SMS per recipient (phone number) per hour; further ones wait for the next hour. */
  smsPerRecipientPerHour: number;
  /** VAPID public key (base64url P-256 point, RFC 8292); with the private key: push is on. */
  vapidPublicKey: string;
  /** VAPID private key (base64url). */
  vapidPrivateKey: string;
  /** VAPID subject: a `mailto:` or `https:` contact for push services. */
  vapidSubject: string;
  /** Web Push requests per second, all workers together. */
  pushRatePerSec: number;
  /** How long a push service keeps a message for an offline device, seconds. */
  pushTtlSeconds: number;
  /**
   * Accept (and send to) Web Push endpoints on loopback or private addresses, and http on
   * loopback: for tests and development only. Off: a user cannot make Herald POST into its network.
   */
  pushAllowPrivateEndpoints: boolean;
}

/** One place for defaults, with units. */
export const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  profile: 'embedded',
  kafkaBrokers: '127.0.0.1:9092',
  sharedStoreDir: '',
  advertisedUrl: '',
  mysqlShards: [] as string[],
  redisUrl: '',
  hbaseRestUrl: '',
  hbaseInboxTable: 'herald_inbox',
  dataDir: './data',
  topologyFile: 'jobs/notifications.topology.yaml',
  retentionDays: 7, // days
  maxMessageBytes: 4096, // bytes
  ssePingMs: 15_000, // ms: 15 s
  workerThreads: 0, // 0 = one per core
  workerHeapMb: 512, // MiB per operator worker thread (V8 old generation)
  durability: 'process',
  logLevel: 'info',
  publisherKeys: [] as string[],
  tokenSecret: '',
  corsOrigins: [] as string[],
  drainTimeoutMs: 15_000, // ms
  smtpUrl: '',
  emailFrom: 'notifications@herald.localhost',
  emailRatePerSec: 10, // emails/s
  smsUrl: '',
  smsToken: '',
  smsFrom: 'Herald',
  smsRatePerSec: 10, // SMS/s
  smsPerRecipientPerHour: 10, // SMS per phone number per hour
  vapidPublicKey: '',
  vapidPrivateKey: '',
  vapidSubject: 'mailto:admin@localhost',
  pushRatePerSec: 100, // push requests/s
  pushTtlSeconds: 86_400, // s: one day
  pushAllowPrivateEndpoints: false,
} as const satisfies Record<keyof HeraldConfig, unknown>;

interface SettingSpec {
  key: keyof HeraldConfig;
  env: string;
  flag: string;
  parse: (raw: string) => unknown;
  accepts: string;
}

function integer(min: number, max: number): (raw: string) => number | undefined {
  return (raw) => {
    if (!/^\d+$/.test(raw.trim())) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };
}

function nonEmpty(raw: string): string | undefined {
  return raw.trim() === '' ? undefined : raw.trim();
}

/** The settings table: env var, flag, parser, and the accepted values for error messages. */
export const SETTINGS: readonly SettingSpec[] = [
  { key: 'port', env: 'PORT', flag: '--port', parse: integer(0, 65_535), accepts: 'an integer from 0 to 65535' },
  { key: 'host', env: 'HERALD_HOST', flag: '--host', parse: nonEmpty, accepts: 'a host name or IP address' },
  {
    key: 'profile',
    env: 'HERALD_PROFILE',
    flag: '--profile',
    parse: (raw) => (raw === 'embedded' || raw === 'kafka' ? raw : undefined),
    accepts: '"embedded" (one process, no servers) or "kafka" (Apache Kafka at HERALD_KAFKA_BROKERS)',
  },
  {
    key: 'kafkaBrokers',
    env: 'HERALD_KAFKA_BROKERS',
    flag: '--kafka-brokers',
    parse: (raw) => (/^[^\s,]+:\d{1,5}(,[^\s,]+:\d{1,5})*$/.test(raw.trim()) ? raw.trim() : undefined),
    accepts: 'a comma-separated list of host:port, e.g. 127.0.0.1:9092',
  },
  {
    key: 'mysqlShards',
    env: 'HERALD_MYSQL_SHARDS',
    flag: '--mysql-shards',
    parse: (raw) => {
      const urls = raw.split(',').map((u) => u.trim()).filter((u) => u !== '');
      return urls.length > 0 && urls.every((u) => /^mysql:\/\/[^\s/]+\/[A-Za-z0-9_]+$/.test(u)) ? urls : undefined;
    },
    accepts: 'a comma-separated list of mysql://user:password@host:port/database URLs, one per shard',
  },
  {
    key: 'redisUrl',
    env: 'HERALD_REDIS_URL',
    flag: '--redis-url',
    parse: (raw) => (/^rediss?:\/\/[^\s]+$/.test(raw.trim()) ? raw.trim() : undefined),
    accepts: 'a redis://host:port[/db] URL',
  },
  {
    key: 'hbaseRestUrl',
    env: 'HERALD_HBASE_REST_URL',
    flag: '--hbase-rest-url',
    parse: (raw) => (/^https?:\/\/[^\s/]+\/?$/.test(raw.trim()) ? raw.trim().replace(/\/$/, '') : undefined),
    accepts: 'the http(s) origin of an HBase REST gateway, e.g. http://127.0.0.1:18080',
  },
  {
    key: 'hbaseInboxTable',
    env: 'HERALD_HBASE_INBOX_TABLE',
    flag: '--hbase-inbox-table',
    parse: (raw) => (/^[A-Za-z0-9_.-]{1,100}$/.test(raw.trim()) ? raw.trim() : undefined),
    accepts: 'an HBase table name (letters, digits, _ . -)',
  },
  { key: 'sharedStoreDir', env: 'HERALD_SHARED_STORE_DIR', flag: '--shared-store-dir', parse: nonEmpty, accepts: 'a directory path' },
  {
    key: 'advertisedUrl',
    env: 'HERALD_ADVERTISED_URL',
    flag: '--advertised-url',
    parse: (raw) => (/^https?:\/\/[^\s/]+$/.test(raw.trim()) ? raw.trim() : undefined),
    accepts: 'an http(s) origin without a path, e.g. http://10.0.0.5:8080',
  },
  { key: 'dataDir', env: 'HERALD_DATA_DIR', flag: '--data-dir', parse: nonEmpty, accepts: 'a directory path' },
  { key: 'topologyFile', env: 'HERALD_TOPOLOGY', flag: '--topology', parse: nonEmpty, accepts: 'a path to a topology YAML file' },
  { key: 'retentionDays', env: 'HERALD_RETENTION_DAYS', flag: '--retention-days', parse: integer(1, 3650), accepts: 'an integer number of days from 1 to 3650' },
  {
    key: 'maxMessageBytes',
    env: 'HERALD_MAX_MESSAGE_BYTES',
    flag: '--max-message-bytes',
    parse: integer(1, 1_048_576),
    accepts: 'an integer number of bytes from 1 to 1048576',
  },
  { key: 'ssePingMs', env: 'HERALD_SSE_PING_MS', flag: '--sse-ping-ms', parse: integer(100, 3_600_000), accepts: 'an integer number of ms from 100 to 3600000' },
  {
    key: 'durability',
    env: 'HERALD_DURABILITY',
    flag: '--durability',
    parse: (raw) => (raw === 'process' || raw === 'machine' ? raw : undefined),
    accepts: '"process" (survive kill -9) or "machine" (also survive power loss: fsync)',
  },
  {
    key: 'logLevel',
    env: 'HERALD_LOG_LEVEL',
    flag: '--log-level',
    parse: (raw) => ((LOG_LEVELS as readonly string[]).includes(raw) ? raw : undefined),
    accepts: LOG_LEVELS.join(', '),
  },
  { key: 'workerThreads', env: 'HERALD_WORKER_THREADS', flag: '--worker-threads', parse: integer(0, 256), accepts: 'an integer from 0 (one per core) to 256' },
  { key: 'workerHeapMb', env: 'HERALD_WORKER_HEAP_MB', flag: '--worker-heap-mb', parse: integer(64, 65_536), accepts: 'an integer from 64 to 65536 (MiB)' },
  {
    key: 'publisherKeys',
    env: 'HERALD_PUBLISHER_KEYS',
    flag: '--publisher-keys',
    parse: (raw) => {
      const keys = raw.split(',').map((k) => k.trim()).filter((k) => k !== '');
      return keys.every((k) => k.length >= 16 && /^[\x21-\x7e]+$/.test(k)) ? keys : undefined;
    },
    accepts: 'a comma-separated list of keys, each at least 16 printable ASCII characters without spaces (e.g. from `openssl rand -hex 24`)',
  },
  {
    key: 'tokenSecret',
    env: 'HERALD_TOKEN_SECRET',
    flag: '--token-secret',
    parse: (raw) => (raw.length >= 32 ? raw : undefined),
    accepts: 'a secret of at least 32 characters (e.g. from `openssl rand -hex 32`)',
  },
  {
    key: 'corsOrigins',
    env: 'HERALD_CORS_ORIGINS',
    flag: '--cors-origins',
    parse: (raw) => {
      const origins = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
      return origins.every((o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o)) ? origins : undefined;
    },
    accepts: '* or a comma-separated list of origins like https://app.example.com (scheme://host[:port], no path)',
  },
  { key: 'drainTimeoutMs', env: 'HERALD_DRAIN_TIMEOUT_MS', flag: '--drain-timeout-ms', parse: integer(1_000, 600_000), accepts: 'an integer from 1000 to 600000 (ms)' },
  { key: 'smtpUrl', env: 'HERALD_SMTP_URL', flag: '--smtp-url', parse: (raw) => (/^smtps?:\/\/[^\s/]+\/?$/.test(raw.trim()) ? raw.trim() : undefined), accepts: 'an smtp://[user:password@]host:port or smtps:// URL' },
  { key: 'emailFrom', env: 'HERALD_EMAIL_FROM', flag: '--email-from', parse: (raw) => (/^[^\s@<>]+@[^\s@<>]+$/.test(raw.trim()) ? raw.trim() : undefined), accepts: 'a bare address like notify@example.com (no display name)' },
  { key: 'emailRatePerSec', env: 'HERALD_EMAIL_RATE_PER_SEC', flag: '--email-rate-per-sec', parse: integer(1, 100_000), accepts: 'an integer from 1 to 100000 (emails per second)' },
  { key: 'smsUrl', env: 'HERALD_SMS_URL', flag: '--sms-url', parse: (raw) => (/^https?:\/\/[^\s]+$/.test(raw.trim()) ? raw.trim().replace(/\/$/, '') : undefined), accepts: 'the http(s) base URL of the SMS provider' },
  { key: 'smsToken', env: 'HERALD_SMS_TOKEN', flag: '--sms-token', parse: (raw) => (/^[\x21-\x7e]+$/.test(raw) ? raw : undefined), accepts: 'the provider API token (printable ASCII, no spaces)' },
  { key: 'smsFrom', env: 'HERALD_SMS_FROM', flag: '--sms-from', parse: nonEmpty, accepts: 'a sender id or an E.164 number' },
  { key: 'smsRatePerSec', env: 'HERALD_SMS_RATE_PER_SEC', flag: '--sms-rate-per-sec', parse: integer(1, 100_000), accepts: 'an integer from 1 to 100000 (SMS per second)' },
  { key: 'smsPerRecipientPerHour', env: 'HERALD_SMS_PER_RECIPIENT_PER_HOUR', flag: '--sms-per-recipient-per-hour', parse: integer(1, 100_000), accepts: 'an integer from 1 to 100000 (SMS per phone number per hour)' },
  { key: 'vapidPublicKey', env: 'HERALD_VAPID_PUBLIC_KEY', flag: '--vapid-public-key', parse: (raw) => (/^[A-Za-z0-9_-]{80,100}$/.test(raw.trim()) ? raw.trim() : undefined), accepts: 'a base64url VAPID public key (87 characters; `npx web-push generate-vapid-keys`)' },
  { key: 'vapidPrivateKey', env: 'HERALD_VAPID_PRIVATE_KEY', flag: '--vapid-private-key', parse: (raw) => (/^[A-Za-z0-9_-]{40,50}$/.test(raw.trim()) ? raw.trim() : undefined), accepts: 'a base64url VAPID private key (43 characters)' },
  { key: 'vapidSubject', env: 'HERALD_VAPID_SUBJECT', flag: '--vapid-subject', parse: (raw) => (/^(mailto:\S+@\S+|https:\/\/\S+)$/.test(raw.trim()) ? raw.trim() : undefined), accepts: 'a mailto: address or an https: URL where push services can reach you' },
  { key: 'pushRatePerSec', env: 'HERALD_PUSH_RATE_PER_SEC', flag: '--push-rate-per-sec', parse: integer(1, 100_000), accepts: 'an integer from 1 to 100000 (push requests per second)' },
  {
    key: 'pushAllowPrivateEndpoints',
    env: 'HERALD_PUSH_ALLOW_PRIVATE_ENDPOINTS',
    flag: '--push-allow-private-endpoints',
    parse: (raw) => ({ true: true, '1': true, false: false, '0': false })[raw.trim().toLowerCase() as 'true'],
    accepts: 'true or false (true only for tests and development: push endpoints on loopback and private addresses)',
  },
  { key: 'pushTtlSeconds', env: 'HERALD_PUSH_TTL_SECONDS', flag: '--push-ttl-seconds', parse: integer(0, 2_419_200), accepts: 'an integer from 0 to 2419200 (seconds; 4 weeks)' },
];

/**
 * Splits `--flag value` and `--flag=value` pairs out of argv.
 * @returns the flag values by flag name and the remaining positional arguments
 * @throws HeraldError HERALD_CONFIG_INVALID for an unknown flag or a flag without a value
 */
export function parseFlags(argv: readonly string[]): { flags: Map<string, string>; positional: string[] } {
  const known = new Set(SETTINGS.map((s) => s.flag));
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!known.has(name)) {
      throw new HeraldError('HERALD_CONFIG_INVALID', `Unknown flag ${name}. Known flags: ${[...known].join(', ')}.`);
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new HeraldError('HERALD_CONFIG_INVALID', `Flag ${name} needs a value.`);
    flags.set(name, value);
  }
  return { flags, positional };
}

/**
 * Builds the validated configuration from env vars and flags (flags win), collecting every
 * invalid setting into one error.
 * @param env usually `process.env`
 * @param flags from {@link parseFlags}
 * @param cwd base for relative paths
 * @throws HeraldError HERALD_CONFIG_INVALID naming each bad setting, its value and what is accepted
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  flags: ReadonlyMap<string, string> = new Map(),
  cwd: string = process.cwd(),
): HeraldConfig {
  const out: Record<string, unknown> = { ...DEFAULTS };
  const problems: string[] = [];
  for (const spec of SETTINGS) {
    const fromFlag = flags.get(spec.flag);
    const raw = fromFlag ?? env[spec.env];
    if (raw === undefined) continue;
    // For a setting that is off by default, an empty value (`HERALD_TOKEN_SECRET=` in a compose
    // file) means unset; elsewhere it is an invalid value like any other.
    const def: unknown = DEFAULTS[spec.key];
    if (raw === '' && (def === '' || (Array.isArray(def) && def.length === 0))) continue;
    const value = spec.parse(raw);
    if (value === undefined) {
      const source = fromFlag !== undefined ? spec.flag : spec.env;
      problems.push(`${source}=${JSON.stringify(raw)} is invalid: set ${spec.env} (or ${spec.flag}) to ${spec.accepts}.`);
      continue;
    }
    out[spec.key] = value;
  }
  // Auth needs both settings; only say one is missing when neither was rejected above.
  const authSettingRejected = problems.some((p) => p.includes('HERALD_PUBLISHER_KEYS') || p.includes('HERALD_TOKEN_SECRET'));
  if (!authSettingRejected && (out.publisherKeys as string[]).length > 0 && out.tokenSecret === '') {
    problems.push('HERALD_PUBLISHER_KEYS is set but HERALD_TOKEN_SECRET is not: set HERALD_TOKEN_SECRET (or --token-secret) to a secret of at least 32 characters, used to sign user tokens.');
  }
  if (!authSettingRejected && (out.publisherKeys as string[]).length === 0 && out.tokenSecret !== '') {
    problems.push('HERALD_TOKEN_SECRET is set but HERALD_PUBLISHER_KEYS is not: auth needs both; set HERALD_PUBLISHER_KEYS (or --publisher-keys), or unset HERALD_TOKEN_SECRET to run without auth.');
  }
  if ((out.vapidPublicKey === '') !== (out.vapidPrivateKey === '') && !problems.some((p) => p.includes('HERALD_VAPID_'))) {
    problems.push('Only one of HERALD_VAPID_PUBLIC_KEY and HERALD_VAPID_PRIVATE_KEY is set: Web Push needs both (generate a pair with `npx web-push generate-vapid-keys`), or neither to leave push off.');
  }
  if (problems.length > 0) {
    throw new HeraldError('HERALD_CONFIG_INVALID', `Invalid settings:\n  ${problems.join('\n  ')}`, { details: problems });
  }
  out.dataDir = path.resolve(cwd, out.dataDir as string);
  out.sharedStoreDir = out.sharedStoreDir === '' ? path.join(out.dataDir as string, 'shared') : path.resolve(cwd, out.sharedStoreDir as string);
  // A topology file given by the user is relative to the working directory; the default one is
  // the job file shipped with Herald, wherever Herald is started from.
  const topologyGiven = flags.has('--topology') || env.HERALD_TOPOLOGY !== undefined;
  out.topologyFile = path.resolve(topologyGiven ? cwd : PACKAGE_ROOT, out.topologyFile as string);
  return out as unknown as HeraldConfig;
}
