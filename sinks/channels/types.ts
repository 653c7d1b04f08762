/**
 * Channel providers: how one message reaches a user outside Herald's own streams (email over
 * SMTP, SMS over an HTTP provider, Web Push). A provider sends ONE message and classifies the
 * outcome; rate limiting, retries (retry topics with backoff), the DLQ and "never twice" are the
 * channel worker's job, built on these outcomes:
 *
 * - `sent`: the provider accepted it (never resend);
 * - `retry`: a transient failure (timeout, 5xx, 429): try again, not before `afterMs` when the
 *   provider said so (Retry-After); a 429 also pauses the whole provider for that long;
 * - `gone`: the address no longer exists (Web Push 404/410): forget it, never retry;
 * - `failed`: a permanent failure (bad address, 4xx other than 408/429): to the DLQ with the reason.
 *
 * Every message carries `key` = `<notification id>:<user_id>:<channel>`: providers that honour an
 * idempotency key get it (SMS `Idempotency-Key` header, email `Message-ID`, push `Topic`), so a
 * resend after a crash between the provider's accept and our commit is deduplicated there.
 */

import type { ChannelName } from '../../core/types.ts';

export type { ChannelName } from '../../core/types.ts';

/** Outcome of one send (see the module comment). */
export type SendOutcome =
  | { kind: 'sent'; /** The provider's id of the message, when it gives one. */ providerId?: string }
  | { kind: 'retry'; reason: string; /** Earliest retry the provider asked for (Retry-After), ms from now. */ afterMs?: number; /** True for 429: pause the provider, not only this message. */ throttled?: boolean }
  | { kind: 'gone'; reason: string }
  | { kind: 'failed'; reason: string; /** Stable code, e.g. HTTP status or SMTP reply code, for the DLQ. */ code: string };

/** An email to send. */
export interface EmailMessage {
  key: string;
  to: string;
  subject: string;
  text: string;
  /** Already rendered and escaped HTML, or absent (text only). */
  html?: string;
}

/** An SMS to send. */
export interface SmsMessage {
  key: string;
  /** E.164, e.g. +14155550123. */
  to: string;
  text: string;
}

/** A Web Push subscription as the browser's PushManager gives it (PushSubscription.toJSON()). */
export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** A Web Push message to send. */
export interface PushMessage {
  key: string;
  subscription: PushSubscriptionJson;
  /** The payload the service worker receives (JSON-encoded before encryption). */
  payload: { title: string; body: string; url?: string; id: string };
  /** Seconds the push service may keep it for an offline device. */
  ttlSeconds: number;
  urgency?: 'very-low' | 'low' | 'normal' | 'high';
}

/** One provider of one channel. */
export interface ChannelProvider<M> {
  readonly channel: ChannelName;
  /** Provider name for metrics and logs, e.g. `smtp`, `http-sms`, `web-push`. */
  readonly name: string;
  /** Sends one message. Never throws for a provider's answer: classifies it. Rejects only on programming errors. */
  send(message: M, signal?: AbortSignal): Promise<SendOutcome>;
  close(): Promise<void>;
}
