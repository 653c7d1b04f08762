/**
 * Option schemas of the built-in operator and sink types. Option names are snake_case, as
 * written in the topology file; operators read them from `CompiledOperator.options` (already
 * validated, defaults filled in), typed by the exported `*Options` types.
 */
import { z } from 'zod';
import type { OperatorType, SinkType } from './catalog.ts';
import { TOPOLOGY_DEFAULTS } from './defaults.ts';

const OP = TOPOLOGY_DEFAULTS.operators;
const SINK = TOPOLOGY_DEFAULTS.sinks;

/**
 * Options of `subscription-join`: topic_id → the user_ids subscribed to it at publish time, one
 * batched store lookup per batch. A topic that ever had more than `max_inline_subscribers`
 * subscription periods is not loaded: the record is marked paged and the stage's `fanout-pages`
 * sink splits it into one page record per user-hash bucket; the stage reading those page records
 * runs the join again, reading only that bucket, `page_size` periods per round trip.
 */
export const subscriptionJoinOptions = z.strictObject({
  /** Subscription periods a topic may have ever had and still be fanned out inline (1 to 10 million). */
  max_inline_subscribers: z.int().min(1).max(10_000_000).default(OP['subscription-join'].maxInlineSubscribers),
  /** Subscription periods read per store round trip when fanning out one bucket of a paged topic (1 to 100 000). */
  page_size: z.int().min(1).max(100_000).default(OP['subscription-join'].pageSize),
});
/** Validated options of `subscription-join`. */
export type SubscriptionJoinOptions = z.output<typeof subscriptionJoinOptions>;

/** Options of `bloom-dedup`: windowed Bloom filter keyed by the idempotency key. */
export const bloomDedupOptions = z.strictObject({
  /** Record field holding the dedup key: `idempotency_key` (falls back to the notification id when null) or `id`. */
  key: z.enum(['idempotency_key', 'id']).default(OP['bloom-dedup'].key),
  /** Length of one Bloom filter window, ms. */
  window_ms: z.int().min(1).default(OP['bloom-dedup'].windowMs),
  /** Number of windows kept, 1-64; a key is a duplicate when seen within about windows × window_ms. */
  windows: z.int().min(1).max(64).default(OP['bloom-dedup'].windows),
  /** Distinct keys one window is sized for (1 to 100 million). */
  expected_keys_per_window: z.int().min(1).max(100_000_000).default(OP['bloom-dedup'].expectedKeysPerWindow),
  /** Target false-positive rate of one window, 0 < rate < 1 (positives are confirmed in an exact store). */
  false_positive_rate: z.number().gt(0).lt(1).default(OP['bloom-dedup'].falsePositiveRate),
});
/** Validated options of `bloom-dedup`. */
export type BloomDedupOptions = z.output<typeof bloomDedupOptions>;

/** Options of `user-repartition`: one output record per user, partitioned by `key`. */
export const userRepartitionOptions = z.strictObject({
  /**
   * Record field hashed (murmur2, like Kafka's default partitioner) to pick the partition; only
   * `user_id` is supported. It must equal the `key` of the log the node writes.
   */
  key: z.literal('user_id').default(OP['user-repartition'].key),
});
/** Validated options of `user-repartition`. */
export type UserRepartitionOptions = z.output<typeof userRepartitionOptions>;

/** Options of `routing`: appends the stage output to the node's `log`. None yet. */
export const routingOptions = z.strictObject({});
/** Validated options of `routing`. */
export type RoutingOptions = z.output<typeof routingOptions>;

/**
 * Options of `fanout-pages`: splits each publish of a paged topic (marked by subscription-join)
 * into `buckets` page records, keyed `topic_id/bucket`, on the node's `log`. The same topic and
 * bucket always land on the same partition, so one user's notifications of one topic stay in
 * publish order. Changing `buckets` re-maps users to buckets: change it only when the stage
 * reading the pages log has no lag.
 */
export const fanoutPagesOptions = z.strictObject({
  /** User-hash buckets per publish (1 to 65 536): a page record covers about subscribers / buckets users. */
  buckets: z.int().min(1).max(65_536).default(SINK['fanout-pages'].buckets),
});
/** Validated options of `fanout-pages`. */
export type FanoutPagesOptions = z.output<typeof fanoutPagesOptions>;

/**
 * Options of `edge-delivery`: inbox (offline store) and live SSE delivery. None: every
 * notification goes to the inbox (kept HERALD_RETENTION_DAYS) and to the user's open streams;
 * the SSE ping interval is an edge setting (HERALD_SSE_PING_MS).
 */
export const edgeDeliveryOptions = z.strictObject({});
/** Validated options of `edge-delivery`. */
export type EdgeDeliveryOptions = z.output<typeof edgeDeliveryOptions>;

const channelName = z.enum(['email', 'sms', 'push']);

/**
 * Options of `channel-routing`: for every notification whose publish asked for `channel`, one
 * record per recipient on the node's own `log` (key user_id, value the notification id, topic,
 * critical flag and that channel's content). The channel stage reading that log checks the user's
 * address and preferences and sends.
 */
export const channelRoutingOptions = z.strictObject({
  /** The channel this sink routes: email, sms or push. */
  channel: channelName,
  /**
   * Which notifications: `all`, only `critical` ones (for a critical lane's log, read by a stage
   * whose sends go ahead of bulk ones), or only `bulk` (non-critical) ones.
   */
  priority: z.enum(['all', 'critical', 'bulk']).default(SINK['channel-routing'].priority),
});
/** Validated options of `channel-routing`. */
export type ChannelRoutingOptions = z.output<typeof channelRoutingOptions>;

/**
 * Options of `channel-delivery`: the sink of a `role: channel` stage. Sends each record of the
 * stage's source log through the channel's provider (rate limited, once per (notification, user,
 * channel)); transient failures go to the node's `log` (the retry log, read back by the same
 * stage once due), permanent ones and exhausted retries to the stage's `dead_letter_log`.
 */
export const channelDeliveryOptions = z.strictObject({
  /** The channel these workers send: email, sms or push. */
  channel: channelName,
  /** Provider attempts before a transiently failing send goes to the DLQ (1 to 100). */
  max_attempts: z.int().min(1).max(100).default(SINK['channel-delivery'].maxAttempts),
  /** Sends in flight at once per worker, to distinct recipients (1 to 256). */
  concurrency: z.int().min(1).max(256).default(SINK['channel-delivery'].concurrency),
  /** Longest sleep of the retry consumer while no retry is due, ms (10 to 60 000). */
  retry_poll_ms: z.int().min(10).max(60_000).default(SINK['channel-delivery'].retryPollMs),
  /**
   * `critical`: this stage is the channel's critical lane: while it sends, the channel's `normal`
   * stage in the same process waits, and it reads no retry log (its retries go to the `log` it
   * names, read by the normal stage, critical jobs first). `normal`: the bulk lane, which also
   * reads the retry log.
   */
  priority: z.enum(['normal', 'critical']).default(SINK['channel-delivery'].priority),
});
/** Validated options of `channel-delivery`. */
export type ChannelDeliveryOptions = z.output<typeof channelDeliveryOptions>;

/** Built-in operator types, by type name. */
export const BUILTIN_OPERATORS: Record<string, OperatorType> = {
  'subscription-join': {
    description: 'looks up the users subscribed to the record topic_id (subscription store + cache)',
    optionsSchema: subscriptionJoinOptions,
  },
  'bloom-dedup': {
    description: 'drops records whose idempotency key was seen in the last windows (windowed Bloom filter, positives confirmed exactly)',
    optionsSchema: bloomDedupOptions,
  },
  'user-repartition': {
    description: 'emits one record per subscribed user, partitioned by user_id',
    optionsSchema: userRepartitionOptions,
    repartition: true,
  },
};

/** Built-in sink types, by type name. */
export const BUILTIN_SINKS: Record<string, SinkType> = {
  routing: {
    description: 'appends records to a log topic',
    optionsSchema: routingOptions,
    writesLog: true,
  },
  'fanout-pages': {
    description: 'splits each publish of a topic too large to fan out inline into one record per user-hash bucket on its own log',
    optionsSchema: fanoutPagesOptions,
    writesLog: true,
    ownLog: true,
  },
  'edge-delivery': {
    description: 'stores notifications in the inbox and pushes them to connected users over SSE',
    optionsSchema: edgeDeliveryOptions,
    writesLog: false,
  },
  'channel-routing': {
    description: 'writes one record per recipient to the log of one channel (email, sms, push) for notifications published with that channel',
    optionsSchema: channelRoutingOptions,
    writesLog: true,
    ownLog: true,
  },
  'channel-delivery': {
    description: 'sends through the channel provider (rate limited, once per notification, user and channel); retries go to its log, failures to the DLQ',
    optionsSchema: channelDeliveryOptions,
    writesLog: true,
    ownLog: true,
  },
};
