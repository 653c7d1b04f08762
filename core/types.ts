/**
 * Domain records shared by the edge, the job and the stores.
 * Field names are the wire names of the HTTP API (snake_case) so records cross
 * every boundary without renaming.
 */

/** A notification message: a string or a JSON object. */
export type Message = string | { [key: string]: unknown };

/** One notification as clients see it (GET /notifications, SSE `data`). */
export interface Notification {
  /** UUIDv7 (RFC 9562): time-ordered; its 48-bit prefix is `published_at` in ms. */
  id: string;
  topic_id: string;
  message: Message;
  /** ISO 8601 UTC with milliseconds, e.g. `2026-11-29T15:00:00.000Z`. */
  published_at: string;
}

/**
 * How a user-log value ends when its notification is critical: `…,"published_at":"…","critical":true}`
 * (the fan-out appends it last; the edge strips it before streaming, so clients see the same JSON
 * live as from GET /notifications).
 */
export const CRITICAL_MARK = ',"critical":true}';

/**
 * Value of a record on the publish log (key = topic_id).
 * `idempotency_key` is the client's Idempotency-Key header, or null.
 */
export interface PublishRecord extends Notification {
  idempotency_key: string | null;
  /**
   * What the publish asks of the channels besides in-app (email, SMS, push). Absent on an
   * in-app-only publish, so such records are byte-for-byte what they were before channels.
   */
  delivery?: PublishDelivery;
}

/** The channels Herald delivers to besides its own streams (inbox, SSE, WebSocket). */
export type ChannelName = 'email' | 'sms' | 'push';

/** Every {@link ChannelName}, in a stable order. */
export const CHANNEL_NAMES: readonly ChannelName[] = ['email', 'sms', 'push'];

/** Email content: plain text always; `html` optional (already rendered and escaped). */
export interface EmailContent {
  subject: string;
  text: string;
  html?: string;
}

/** SMS content. */
export interface SmsContent {
  text: string;
}

/** Web Push content (what the service worker shows). */
export interface PushContent {
  title: string;
  body: string;
  /** Opened when the user clicks the notification. */
  url?: string;
}

/** Content per channel, from the publish itself or rendered from a stored template. */
export interface ChannelContent {
  email?: EmailContent;
  sms?: SmsContent;
  push?: PushContent;
}

/**
 * The channel part of a publish record: the channels asked for, whether the notification is
 * critical (the publish or its topic; preferences cannot mute it), and the content, already
 * rendered at publish time (from the publish's `content`, or its `template_id` + `data`). A
 * channel without content gets a default built from the message (sinks/channels/content.ts).
 */
export interface PublishDelivery {
  channels: ChannelName[];
  critical: boolean;
  content: ChannelContent;
  /** The stored template the content was rendered from, or null. */
  template_id: string | null;
}

/**
 * Value of a record on the fan-out pages log (herald.fanout-pages): one publish of a topic too
 * large to fan out inline, restricted to the subscribers whose user hash falls in bucket
 * `fanout_bucket` of `fanout_buckets` (core/user-hash.ts). Key = `topic_id/bucket`, so every
 * publish of one topic puts the same users on the same partition, in publish order.
 */
export interface FanoutPageRecord extends PublishRecord {
  /** 0 ≤ fanout_bucket < fanout_buckets. */
  fanout_bucket: number;
  /** Number of buckets the publish was split into, 1..65536. */
  fanout_buckets: number;
}

/**
 * A record on the user log: key = user_id, value = the Notification JSON (UTF-8). The value
 * bytes are the same for every recipient of one notification, so fan-out encodes it once.
 */
export interface UserRecord {
  user_id: string;
  notification: Notification;
}
