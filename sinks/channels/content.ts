/**
 * What each channel says when the publish gave no content for it: a default built from the
 * notification, so `"channels": ["email"]` alone works. A string message is the text; an object
 * message uses its `title`/`subject` and `body`/`text` string fields when present, else its JSON.
 */
import type { ChannelContent, ChannelName, EmailContent, Notification, PushContent, SmsContent } from '../../core/types.ts';

/** Longest default SMS, characters (ten concatenated segments of 160 GSM-7 characters). */
const SMS_MAX_CHARS = 1_600;
/** Longest default push body, characters (push services cap payloads near 4 KiB). */
const PUSH_BODY_MAX_CHARS = 1_000;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Title and body of a message (see the module comment). */
function partsOf(n: Notification): { title: string; body: string } {
  const m = n.message;
  if (typeof m === 'string') return { title: `New notification on ${n.topic_id}`, body: m };
  const title = str(m.title) ?? str(m.subject) ?? `New notification on ${n.topic_id}`;
  const body = str(m.body) ?? str(m.text) ?? str(m.message) ?? JSON.stringify(m);
  return { title, body };
}

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/**
 * The content of `channel` for `notification`: the given content when the publish or its
 * template had one for this channel, else the default (see the module comment).
 */
export function contentFor(channel: 'email', notification: Notification, given: ChannelContent): EmailContent;
export function contentFor(channel: 'sms', notification: Notification, given: ChannelContent): SmsContent;
export function contentFor(channel: 'push', notification: Notification, given: ChannelContent): PushContent;
export function contentFor(channel: ChannelName, notification: Notification, given: ChannelContent): EmailContent | SmsContent | PushContent;
export function contentFor(channel: ChannelName, notification: Notification, given: ChannelContent): EmailContent | SmsContent | PushContent {
  const own = given[channel];
  if (own !== undefined) return own;
  const { title, body } = partsOf(notification);
  switch (channel) {
    case 'email':
      return { subject: clip(title, 998), text: body };
    case 'sms':
      return { text: clip(title === `New notification on ${notification.topic_id}` ? body : `${title}: ${body}`, SMS_MAX_CHARS) };
    case 'push':
      return { title: clip(title, 256), body: clip(body, PUSH_BODY_MAX_CHARS) };
  }
}
