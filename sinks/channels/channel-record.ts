/**
 * The records of a channel log (e.g. herald.channel.email), written by the `channel-routing` sink
 * and read by that channel's stage: key = user_id, value = {@link ChannelRecord} JSON. The value is
 * the same for every recipient of one notification (the user is the key), so the sink encodes it
 * once per notification and channel.
 */
import { isUuidV7, isValidId } from '../../core/ids.ts';
import type { ChannelName, EmailContent, Notification, PublishDelivery, PushContent, SmsContent } from '../../core/types.ts';
import { contentFor } from './content.ts';

/** Content of one channel. */
export type ContentOf<C extends ChannelName> = C extends 'email' ? EmailContent : C extends 'sms' ? SmsContent : PushContent;

/** Value of a channel log record (key = user_id). */
export interface ChannelRecord {
  notification_id: string;
  topic_id: string;
  /** ISO 8601 UTC with ms. */
  published_at: string;
  channel: ChannelName;
  /** The publish or its topic is critical: sent whatever the user's mutes, before bulk sends. */
  critical: boolean;
  /** This channel's content (the publish's, the template's, or the default built from the message). */
  content: EmailContent | SmsContent | PushContent;
  template_id: string | null;
}

/** The channel record of `notification` for `channel` (content resolved by {@link contentFor}). */
export function channelRecordOf(notification: Notification, delivery: PublishDelivery, channel: ChannelName): ChannelRecord {
  return {
    notification_id: notification.id,
    topic_id: notification.topic_id,
    published_at: notification.published_at,
    channel,
    critical: delivery.critical,
    content: contentFor(channel, notification, delivery.content),
    template_id: delivery.template_id,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Parses and checks one channel record value.
 * @param expected the channel of the log being read
 * @throws Error naming the first invalid field (the caller dead-letters the record)
 */
export function parseChannelRecord(text: string, expected: ChannelName): ChannelRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('value is not valid JSON');
  }
  if (!isObject(v)) throw new Error('value is not a JSON object');
  if (typeof v.notification_id !== 'string' || !isUuidV7(v.notification_id)) throw new Error('notification_id is not a UUIDv7 string');
  if (!isValidId(v.topic_id)) throw new Error('topic_id is missing or invalid');
  if (typeof v.published_at !== 'string' || !Number.isFinite(Date.parse(v.published_at))) throw new Error('published_at is not an ISO 8601 date');
  if (v.channel !== expected) throw new Error(`channel is ${JSON.stringify(v.channel)}, but this is the ${expected} log`);
  if (typeof v.critical !== 'boolean') throw new Error('critical is not a boolean');
  const c = v.content;
  if (!isObject(c)) throw new Error('content is not an object');
  const ok =
    expected === 'email' ? isText(c.subject) && isText(c.text) && (c.html === undefined || typeof c.html === 'string')
    : expected === 'sms' ? isText(c.text)
    : isText(c.title) && typeof c.body === 'string' && (c.url === undefined || typeof c.url === 'string');
  if (!ok) throw new Error(`content is not ${expected} content`);
  const templateId = v.template_id ?? null;
  if (templateId !== null && typeof templateId !== 'string') throw new Error('template_id is not a string or null');
  return v as unknown as ChannelRecord;
}
