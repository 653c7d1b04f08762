/**
 * Store interfaces. Operators, the edge and the job runtime depend on these only; each profile
 * plugs in implementations (embedded: SQLite via better-sqlite3; kafka profile: MySQL + Redis,
 * HBase). Every method is async so network stores fit the same shape. Ids are strings end to end.
 * Failures reject with a HeraldError `HERALD_STORE_FAILED` (retriable) carrying the driver error
 * as `cause`.
 */
import type { ChannelContent, ChannelName, Notification } from '../core/types.ts';
import type { UserHashRange } from '../core/user-hash.ts';
import type { PushSubscriptionJson } from '../sinks/channels/types.ts';

/** One subscription period of a user to a topic. */
export interface Subscriber {
  user_id: string;
  /** When the subscription was made, ms since the epoch. */
  subscribed_at: number;
  /**
   * When the user unsubscribed, ms since the epoch; absent while subscribed. Unsubscribed
   * subscribers stay listed (until purged) so a publish made before the unsubscribe, but fanned
   * out after it, still reaches them: the join keeps subscribed_at ≤ published_at < unsubscribed_at.
   */
  unsubscribed_at?: number;
}

/** Result of {@link SubscriptionStore.subscribersForFanout}. */
export interface FanoutLookup {
  /** Topics fanned out inline → their periods (ordered by user_id, subscribed_at; [] when none). */
  inline: Map<string, Subscriber[]>;
  /** Topics fanned out in pages (by user-hash bucket, see {@link SubscriptionStore.subscribersInRange}). */
  paged: Set<string>;
}

/** Where a page of {@link SubscriptionStore.subscribersInRange} ended (exclusive start of the next). */
export interface SubscriberCursor {
  user_hash: number;
  user_id: string;
  subscribed_at: number;
}

/** One page of {@link SubscriptionStore.subscribersInRange}. */
export interface SubscriberPage {
  subscribers: Subscriber[];
  /** Pass as `after` for the next page; null when this page is the last. */
  next: SubscriberCursor | null;
}

/** Subscriptions: topic_id → user_ids, and the reverse index user_id → topic_ids. */
export interface SubscriptionStore {
  /** Subscribes (idempotent). `created` is false when it already existed (subscribed_at kept). */
  subscribe(topicId: string, userId: string, atMs: number): Promise<{ created: boolean }>;
  /**
   * Unsubscribes at `atMs` (idempotent): the subscription is kept as ended at `atMs` until
   * {@link purgeUnsubscribed}. `removed` is false when there was no active subscription.
   * Subscribing again starts a new period; every period is remembered until purged.
   */
  unsubscribe(topicId: string, userId: string, atMs?: number): Promise<{ removed: boolean }>;
  /**
   * Subscription periods of many topics in one round trip (batch lookup), ordered by user_id then
   * subscribed_at: the open one and the ended ones not yet purged (with `unsubscribed_at`), so a
   * user may appear more than once. Topics without any map to [].
   */
  subscribersOf(topicIds: readonly string[]): Promise<Map<string, Subscriber[]>>;
  /**
   * The fan-out lookup of a batch (one round trip per shard): which topics are fanned out inline,
   * with their subscription periods (as {@link subscribersOf}), and which in pages. A topic goes
   * to `paged` when more than `maxInline` subscription periods were ever created for it (a
   * counter that only grows, kept by subscribe): once paged, a topic stays paged, so its later
   * publishes never overtake earlier ones queued for paged fan-out. Inline lists are therefore
   * never longer than `maxInline`. Every asked topic is in exactly one of the two.
   */
  subscribersForFanout(topicIds: readonly string[], maxInline: number): Promise<FanoutLookup>;
  /**
   * One page of a topic's subscription periods whose user hash (core/user-hash.ts) is in
   * `range`, ordered by (user hash, user_id, subscribed_at), at most `limit`, after `after`
   * (the previous page's `next`). Reads an index range: memory is bounded by `limit` whatever the
   * topic's size. `next` is null on the last page.
   */
  subscribersInRange(topicId: string, range: UserHashRange, after: SubscriberCursor | null, limit: number): Promise<SubscriberPage>;
  /** Topics a user is subscribed to now, ordered by topic_id. */
  topicsOf(userId: string): Promise<string[]>;
  /** Forgets subscriptions that ended before `beforeMs`. Returns how many. */
  purgeUnsubscribed(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/** One notification stored for one user, with its position in the user's delivery order. */
export interface InboxEntry {
  user_id: string;
  notification: Notification;
  /**
   * Delivery position: the user log offset of the record that carried it. Monotonic per user
   * (a user always hashes to one user-log partition). SSE resume follows `seq` order.
   */
  seq: number;
}

/** A page of GET /notifications. */
export interface InboxPage {
  notifications: Notification[];
  /** Opaque cursor for the next page, or null when this page is the last one now. */
  next_cursor: string | null;
}

/** Query of GET /notifications. */
export interface InboxQuery {
  /** Only notifications with published_at strictly after this, ms since the epoch. */
  sinceMs?: number;
  /** Page size, 1..1000. */
  limit: number;
  /** Cursor from a previous page. Throws HERALD_EDGE_CURSOR_INVALID when malformed. */
  cursor?: string;
}

/** The inbox (offline store): every notification of every user within retention. */
export interface InboxStore {
  /**
   * Stores entries (idempotent per (user_id, notification.id)). Returns, per entry, true when it
   * was newly stored and false when that user already had that notification (a replay).
   */
  append(entries: readonly InboxEntry[]): Promise<boolean[]>;
  /** Oldest first by (published_at, id), paged with an opaque cursor: no item twice, none skipped. */
  list(userId: string, query: InboxQuery): Promise<InboxPage>;
  /**
   * For SSE resume: the user's notifications delivered after `lastEventId` in `seq` order, at most
   * `limit`. When the id is unknown for this user (expired, or never delivered here), falls back
   * to notifications with published_at after the UUIDv7 timestamp of the id (`found` = false).
   * `afterSeq`: continue after this seq instead (paging through a long backlog).
   */
  readAfter(userId: string, lastEventId: string, limit: number, afterSeq?: number): Promise<{ found: boolean; entries: InboxEntry[] }>;
  /** Deletes notifications published before `beforeMs`. Returns how many were deleted. */
  purge(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Exact confirm store of the windowed Bloom dedup: which idempotency keys were already fanned
 * out. A Bloom positive is confirmed here, so a false positive never drops a new notification.
 */
export interface DedupStore {
  /** Which of `keys` are confirmed (seen and fanned out). One round trip for the batch. */
  confirmed(keys: readonly string[]): Promise<Set<string>>;
  /** Records keys as fanned out (idempotent). `at` = ms since the epoch. */
  confirm(entries: readonly { key: string; partition: number; at: number }[]): Promise<void>;
  /** Keys of one source partition confirmed at or after `sinceMs`, oldest first (Bloom restore). */
  keysSince(partition: number, sinceMs: number): Promise<{ key: string; at: number }[]>;
  /** Deletes confirmations older than `beforeMs`. Returns how many were deleted. */
  purge(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/** The first answer given to one Idempotency-Key on one topic. */
export interface IdempotencyRecord {
  id: string;
  published_at: string;
  /** 'pending' until the publish record is durably on the publish log, then 'appended'. */
  state: 'pending' | 'appended';
  /**
   * Digest of the request the key was first used with (hex), so a key reused for a different
   * request can be refused. Empty when unknown (claims made before fingerprints existed).
   */
  fingerprint: string;
}

/** Idempotency-Key claims of POST /publish, per (topic_id, key). */
export interface IdempotencyStore {
  /**
   * Claims `key` on `topicId` for `candidate` unless already claimed. Returns the record that
   * holds the claim (the candidate when `created`).
   */
  claim(topicId: string, key: string, candidate: IdempotencyRecord): Promise<{ record: IdempotencyRecord; created: boolean }>;
  /** Marks a claim as appended. */
  markAppended(topicId: string, key: string): Promise<void>;
  /** Deletes claims made before `beforeMs`. */
  purge(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Which edge owns which partition of the user log (kafka profile). An edge claims its partitions
 * when the edge consumer group assigns them and releases them when they are revoked; a stream
 * request for a user whose partition another edge owns is redirected there.
 */
export interface PartitionOwnershipStore {
  /**
   * Records `owner` (an edge's advertised URL) as the owner of `partitions` of `log` for
   * `leaseMs` from now. The owner renews its claims well within the lease; a killed edge's claims
   * lapse on their own, so nobody is sent to it for longer than one lease.
   */
  claim(log: string, partitions: readonly number[], owner: string, leaseMs: number): Promise<void>;
  /** Removes `owner`'s claims on `partitions` (a newer owner's claim stays). */
  release(log: string, partitions: readonly number[], owner: string): Promise<void>;
  /** The owner's URL, or null when no edge holds a live (unexpired) claim on the partition. */
  ownerOf(log: string, partition: number): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Which users have a live stream on some edge (presence): channels skip users who are online, and
 * ops see where users are. An edge marks its connected users online with a lease it renews; when
 * a user's last stream on an edge closes, the user stays online for a grace period, so a reconnect
 * does not flap; a dead edge's entries expire with their lease.
 */
export interface PresenceStore {
  /** Marks `userIds` connected at `edge` for `leaseMs` from now (call again to renew). */
  online(userIds: readonly string[], edge: string, leaseMs: number): Promise<void>;
  /** `userId`'s last stream at `edge` closed: online there for `graceMs` more. */
  offline(userId: string, edge: string, graceMs: number): Promise<void>;
  /** The subset of `userIds` online on any edge now. */
  onlineOf(userIds: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}

/**
 * Where a user can be reached outside Herald's own streams (PUT /users/{user_id}/channels).
 * The edge validates every field before it is stored (email: sinks/channels/email/address.ts,
 * phone: E.164, push: `isPushSubscription`); stores check only the limits.
 */
export interface UserChannelSettings {
  /** Email address, or null when the user has none. */
  email: string | null;
  /** Phone number in E.164 (e.g. +14155550123) for SMS, or null. */
  phone: string | null;
  /**
   * Web Push subscriptions (one per browser or device), at most {@link MAX_PUSH_SUBSCRIPTIONS},
   * each endpoint once, in the order given (a repeated endpoint keeps its first position and its
   * last keys).
   */
  push: PushSubscriptionJson[];
}

/** Per-channel switches: true = send, false = muted, absent = the default (see UserPreferences). */
export interface ChannelToggles {
  email?: boolean;
  sms?: boolean;
  push?: boolean;
}

/** Switches of one topic: the channels, and `in_app` (the inbox and live streams). */
export interface TopicPreference extends ChannelToggles {
  in_app?: boolean;
}

/**
 * What a user wants to receive where (PUT /users/{user_id}/preferences). A channel is used for a
 * topic when the user has an address for it and it is not muted: the topic's switch decides when
 * set, else the global `channels` switch, else true. A critical topic or publish ignores every
 * mute (sinks/channels/preferences.ts `channelsFor`).
 */
export interface UserPreferences {
  /** Global switches (defaults for every topic). */
  channels: ChannelToggles;
  /** topic_id → that topic's switches; at most {@link MAX_PREFERENCE_TOPICS} topics. */
  topics: Record<string, TopicPreference>;
}

/** Most Web Push subscriptions kept per user. */
export const MAX_PUSH_SUBSCRIPTIONS = 10;
/** Most topics with their own preferences per user. */
export const MAX_PREFERENCE_TOPICS = 1_000;

/**
 * Users' channel settings and preferences, keyed by user_id. Writes replace the whole value
 * (PUT semantics). Batch reads serve the channel workers: one round trip per shard for a batch.
 */
export interface UserChannelStore {
  /**
   * Replaces the user's settings. Push subscriptions are deduplicated by endpoint first.
   * @returns the settings as stored
   * @throws RangeError when more than MAX_PUSH_SUBSCRIPTIONS remain after deduplication
   */
  setChannels(userId: string, settings: UserChannelSettings): Promise<UserChannelSettings>;
  /** Settings of many users; every asked user is in the map (no settings: email/phone null, push []). */
  channelsOf(userIds: readonly string[]): Promise<Map<string, UserChannelSettings>>;
  /**
   * Replaces the user's preferences.
   * @returns the preferences as stored
   * @throws RangeError when `topics` has more than MAX_PREFERENCE_TOPICS entries
   */
  setPreferences(userId: string, prefs: UserPreferences): Promise<UserPreferences>;
  /** Preferences of many users; every asked user is in the map (none stored: `{channels: {}, topics: {}}`). */
  preferencesOf(userIds: readonly string[]): Promise<Map<string, UserPreferences>>;
  /**
   * Drops one push subscription (its push service answered 404/410), atomically against
   * concurrent writes of the same user. `removed` is false when the user had no such endpoint.
   */
  removePushSubscription(userId: string, endpoint: string): Promise<{ removed: boolean }>;
  close(): Promise<void>;
}

/** Where one (notification, user, channel) send stands. */
export type DeliveryState = 'pending' | 'sent' | 'retrying' | 'failed' | 'gone' | 'skipped';

/** The delivery status of one send, keyed by `<notification id>:<user_id>:<channel>`. */
export interface DeliveryStatus {
  key: string;
  notification_id: string;
  user_id: string;
  channel: ChannelName;
  state: DeliveryState;
  /** Provider attempts made so far. */
  attempts: number;
  /** The provider's message id once sent. */
  provider_id?: string;
  /** Last failure (retrying, failed, gone) or why it was skipped. */
  last_error?: string;
  /** Last change, ms since the epoch. */
  updated_at: number;
}

/**
 * Per-channel delivery status (GET /notifications/{id}/deliveries) and the exact record that
 * makes channel sends happen once: a worker sends only what is not `sent`, `failed`, `gone` or
 * `skipped` yet, and records the outcome before committing its offsets.
 */
export interface DeliveryStatusStore {
  /** Statuses of many keys in one round trip; absent keys are not in the map. */
  statusOf(keys: readonly string[]): Promise<Map<string, DeliveryStatus>>;
  /** Writes statuses (upsert by key); a final state (sent, failed, gone, skipped) is never overwritten by a non-final one. */
  record(statuses: readonly DeliveryStatus[]): Promise<void>;
  /** Every channel status of one notification for one user, ordered by channel, then key (byte order). */
  deliveriesOf(notificationId: string, userId: string): Promise<DeliveryStatus[]>;
  /**
   * Turns `failed` statuses back into `retrying`, for a replay from the DLQ (`herald dlq replay`):
   * `last_error` becomes `reason`, `updated_at` becomes `nowMs` (ms since the epoch), attempts are
   * kept. The only way out of a final state; other states are left alone.
   * @returns how many statuses were reopened
   */
  reopen(sends: readonly { key: string; user_id: string }[], reason: string, nowMs: number): Promise<number>;
  /** Deletes statuses last changed before `beforeMs`. Returns how many. */
  purge(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A stored notification template (PUT /templates/{template_id}): per-channel content written in
 * Handlebars syntax, rendered at publish time with the publish's `data` (sinks/channels/templates).
 */
export interface NotificationTemplate {
  template_id: string;
  content: ChannelContent;
  /** Last change, ms since the epoch. */
  updated_at: number;
}

/** Per-topic settings (PUT /topics/{topic_id}/settings). */
export interface TopicSettings {
  /** Every publish on the topic is critical: user preferences cannot mute it. */
  critical: boolean;
}

/**
 * Templates and per-topic settings: small, read at publish time by the edge, written by
 * publishers. One store for the deployment (SQLite `templates.db`, or the first MySQL shard).
 */
export interface TemplateStore {
  /**
   * Creates or replaces a template. A replacement's `updated_at` is stored as at least the
   * replaced one's + 1 (two writes in one ms, or a clock behind), so `(template_id, updated_at)`
   * names one content. @returns it as stored
   */
  putTemplate(template: NotificationTemplate): Promise<NotificationTemplate>;
  /** The template, or null when there is none with that id. */
  getTemplate(templateId: string): Promise<NotificationTemplate | null>;
  /** Deletes a template. @returns whether it existed */
  deleteTemplate(templateId: string): Promise<boolean>;
  /** Replaces a topic's settings. @returns them as stored */
  setTopicSettings(topicId: string, settings: TopicSettings): Promise<TopicSettings>;
  /** A topic's settings (none stored: `{critical: false}`). */
  topicSettings(topicId: string): Promise<TopicSettings>;
  close(): Promise<void>;
}
