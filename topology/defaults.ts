/**
 * Every default of the topology file, in one object. The schema (schema.ts) and the built-in
 * operator and sink option schemas (builtin-types.ts) read their defaults from here, so a
 * default changes in one place. Units are in the comments.
 */
export const TOPOLOGY_DEFAULTS = {
  log: {
    retentionMs: 604_800_000, // ms: 7 days
  },
  stage: {
    role: 'job' as const, // process role that runs the stage: `herald job`
    errorPolicy: 'fail' as const, // stop the stage on a failing record (nothing is skipped silently)
    consumerGroupPrefix: 'herald.', // consumer group = prefix + stage name, unless set
    maxBatchRecords: 1_000, // records per batch handed to the operators on a worker
  },
  operators: {
    'subscription-join': {
      maxInlineSubscribers: 10_000, // subscription periods: a topic that ever had more is fanned out in pages
      pageSize: 5_000, // subscription periods read per store round trip when fanning out one bucket
    },
    'bloom-dedup': {
      key: 'idempotency_key', // record field holding the idempotency key
      windowMs: 600_000, // ms: 10 minutes per Bloom filter window
      windows: 6, // windows kept: 6 × 10 min = the last hour is deduplicated
      expectedKeysPerWindow: 100_000, // keys: sizing of one window's filter
      falsePositiveRate: 0.001, // ratio: target false-positive rate per window (positives are confirmed exactly)
    },
    'user-repartition': {
      key: 'user_id', // record field hashed (murmur2, like Kafka) to choose the partition
    },
  },
  sinks: {
    routing: {},
    'fanout-pages': {
      buckets: 256, // user-hash buckets a large topic's publish is split into (one page record each)
    },
    'edge-delivery': {},
    'channel-routing': {
      priority: 'all' as const, // which notifications: all, critical only, bulk (non-critical) only
    },
    'channel-delivery': {
      maxAttempts: 12, // provider attempts before a send goes to the DLQ (throttles do not count): up to ~37 min of retries
      concurrency: 4, // sends in flight at once per worker (distinct recipients)
      retryPollMs: 1_000, // ms: longest sleep of the retry consumer before it re-reads its log
      priority: 'normal' as const, // normal (bulk lane, reads the retry log) | critical (goes first)
    },
  },
} as const;
