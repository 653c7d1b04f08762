/**
 * Turns channel records (one notification for one user on one channel) into provider send jobs,
 * with the user's current address and preferences: the "does this user get it here" decision of
 * the channel stage (sinks/channels/preferences.ts `channelsFor`). A user without an address or
 * who muted the channel for the topic (and the notification is not critical) gets no job but a
 * final `skipped` status naming why, so GET /notifications/{id}/deliveries explains the silence.
 *
 * Keys: `<notification id>:<user_id>:<channel>`; a push to a user's several devices adds
 * `:<12 hex of SHA-256(endpoint)>`, one job and one status per device.
 */
import { createHash } from 'node:crypto';
import type { ChannelName, EmailContent, PushContent, SmsContent } from '../../core/types.ts';
import type { DeliveryStatus, UserChannelSettings, UserPreferences } from '../../stores/types.ts';
import type { ChannelRecord } from './channel-record.ts';
import { channelsFor, hasAddress, topicSwitchOf } from './preferences.ts';
import type { EmailMessage, PushMessage, SmsMessage } from './types.ts';
import type { SendJob } from './worker.ts';

/** The message type of each channel's provider. */
export type MessageOf<C extends ChannelName> = C extends 'email' ? EmailMessage : C extends 'sms' ? SmsMessage : PushMessage;

/** Options of {@link sendJobsFor}. */
export interface SendJobOptions {
  /** Push: seconds the push service may keep a message for an offline device. */
  pushTtlSeconds: number;
}

/** Jobs to send and statuses of the records that are not sent (skipped). */
export interface PlannedSends {
  jobs: SendJob<EmailMessage | SmsMessage | PushMessage>[];
  skipped: DeliveryStatus[];
}

/** The status and idempotency key of one send. */
export function sendKey(notificationId: string, userId: string, channel: ChannelName, device?: string): string {
  const base = `${notificationId}:${userId}:${channel}`;
  return device === undefined ? base : `${base}:${createHash('sha256').update(device).digest('hex').slice(0, 12)}`;
}

/**
 * Plans the sends of `records` (same order), one user each.
 * @param records `[user_id, record]` pairs of one channel
 * @param settings every user's settings (UserChannelStore.channelsOf)
 * @param prefs every user's preferences (UserChannelStore.preferencesOf)
 * @param nowMs time of the skipped statuses, ms since the epoch
 */
export function sendJobsFor(
  records: readonly (readonly [string, ChannelRecord])[],
  settings: ReadonlyMap<string, UserChannelSettings>,
  prefs: ReadonlyMap<string, UserPreferences>,
  options: SendJobOptions,
  nowMs: number,
): PlannedSends {
  const out: PlannedSends = { jobs: [], skipped: [] };
  for (const [userId, r] of records) {
    const s = settings.get(userId) ?? null;
    const p = prefs.get(userId) ?? null;
    const channel = r.channel;
    const base = { notification_id: r.notification_id, user_id: userId, channel, topic_id: r.topic_id, attempt: 1, not_before_ms: 0, critical: r.critical };
    if (s === null || channelsFor(s, p, r.topic_id, [channel], r.critical).length === 0) {
      const why =
        s === null || !hasAddress(s, channel) ? `no ${channel === 'email' ? 'email address' : channel === 'sms' ? 'phone number' : 'push subscription'} stored for the user`
        : topicSwitchOf(p, r.topic_id, channel) === false ? `the user muted ${channel} for topic ${r.topic_id}`
        : `the user muted ${channel} for every topic (preferences channels.${channel})`;
      out.skipped.push({ key: sendKey(r.notification_id, userId, channel), notification_id: r.notification_id, user_id: userId, channel, state: 'skipped', attempts: 0, last_error: why, updated_at: nowMs });
      continue;
    }
    switch (channel) {
      case 'email': {
        const c = r.content as EmailContent;
        const key = sendKey(r.notification_id, userId, channel);
        out.jobs.push({ ...base, key, recipient: s.email!, message: { key, to: s.email!, subject: c.subject, text: c.text, ...(c.html === undefined ? {} : { html: c.html }) } });
        break;
      }
      case 'sms': {
        const key = sendKey(r.notification_id, userId, channel);
        out.jobs.push({ ...base, key, recipient: s.phone!, message: { key, to: s.phone!, text: (r.content as SmsContent).text } });
        break;
      }
      case 'push': {
        const c = r.content as PushContent;
        const several = s.push.length > 1;
        for (const subscription of s.push) {
          const key = sendKey(r.notification_id, userId, channel, several ? subscription.endpoint : undefined);
          out.jobs.push({
            ...base,
            key,
            recipient: subscription.endpoint,
            message: {
              key,
              subscription,
              payload: { id: r.notification_id, title: c.title, body: c.body, ...(c.url === undefined ? {} : { url: c.url }) },
              ttlSeconds: options.pushTtlSeconds,
              urgency: r.critical ? 'high' : 'normal',
            },
          });
        }
        break;
      }
    }
  }
  return out;
}
