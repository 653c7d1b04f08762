/**
 * The Web Push channel: one message to one browser subscription through its push service
 * (RFC 8030), the payload encrypted for the browser (RFC 8291, `aes128gcm`), the sender
 * identified by a VAPID JWT (RFC 8292). The `web-push` package builds the request (encryption,
 * VAPID `Authorization`, TTL/Urgency/Topic headers: `webpush.generateRequestDetails`); this module
 * sends it with node:http(s) and classifies the push service's answer as a {@link SendOutcome}:
 *
 * - 201/202 (any 2xx) → `sent`, `providerId` = the `Location` header (the push message resource);
 * - 404/410 → `gone`: the subscription expired or was unsubscribed; the caller removes it;
 * - 429 → `retry`, `throttled`, `afterMs` from Retry-After;
 * - 413 → `failed` `HTTP_413` (payload too large; resending cannot help);
 * - 400/401/403 and any other 4xx but 408 → `failed` `HTTP_<status>` (403: the VAPID key does not
 *   match the one the subscription was created with, or the JWT was refused);
 * - 408, 5xx, network errors, timeouts → `retry`.
 *
 * Why not `webpush.sendNotification`: it always uses `https.request` (an `http:` endpoint, as a
 * loopback test/dev push service has, cannot be reached), takes no AbortSignal (a shutdown could
 * not cancel a send) and its `timeout` is a socket idle timeout, not a deadline. The request it
 * would send is exactly the one `generateRequestDetails` returns, which is what we send.
 *
 * Topic (RFC 8030 §5.4): a push service replaces an undelivered message with the same Topic, so
 * a resend of one message (same idempotency key) after a crash does not stack up on the device.
 */
import { BlockList, isIP } from 'node:net';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import webpush from 'web-push';
import type { ChannelProvider, PushMessage, PushSubscriptionJson, SendOutcome } from '../types.ts';

/** How long one signed VAPID JWT (valid 12 h) is reused for a push service, ms. */
const VAPID_RESIGN_MS = 3_600_000;

/** Settings of {@link createWebPushProvider}. */
export interface WebPushProviderOptions {
  /** VAPID `sub` claim: a `mailto:` address or an `https:` URL the push service can contact. */
  subject: string;
  /** VAPID public key: base64url of the uncompressed P-256 point (65 bytes). */
  publicKey: string;
  /** VAPID private key: base64url of the 32-byte P-256 scalar. */
  privateKey: string;
  /** Send to endpoints on loopback or private addresses (tests, development). Default false. */
  allowPrivateEndpoints?: boolean;
  /** Deadline of one send (connect, request, response), ms. Default 10,000. */
  timeoutMs?: number;
}

/** A VAPID key pair, both base64url (public: 65-byte uncompressed P-256 point; private: 32 bytes). */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Retry-After values above this are capped, ms (a push service asking for more than a day is treated as a day). */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * A new VAPID key pair (P-256), to be generated once per deployment and kept: subscriptions are
 * bound to the public key the browser subscribed with.
 */
export function generateVapidKeys(): VapidKeys {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}

/**
 * The Topic header of a message: the first 24 bytes of SHA-256(key) as base64url, i.e. 32
 * characters of the URL-safe alphabet (RFC 8030 §5.4 limit). The same key always gives the same
 * topic, so the push service replaces an undelivered copy instead of queueing a second one.
 */
export function pushTopic(key: string): string {
  return createHash('sha256').update(key).digest().subarray(0, 24).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Address ranges a push endpoint may not name unless private endpoints are allowed: loopback,
 * RFC 1918 private, CGNAT (RFC 6598), link-local, "this network", and their IPv6 counterparts
 * (unique local, link-local, IPv4-mapped), so a user cannot make Herald POST into its own network.
 */
const PRIVATE_V4 = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) PRIVATE_V4.addSubnet(net, prefix, 'ipv4');
// Separate lists: BlockList matches an IPv4 address against IPv4-mapped IPv6 rules too.
const PRIVATE_V6 = new BlockList();
for (const [net, prefix] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96]] as const) PRIVATE_V6.addSubnet(net, prefix, 'ipv6');

/** Whether `hostname` (a URL's, IPv6 in brackets) is loopback, private or link-local, or a localhost name. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost')) return true;
  const family = isIP(host);
  if (family === 0) return false;
  return family === 4 ? PRIVATE_V4.check(host, 'ipv4') : PRIVATE_V6.check(host, 'ipv6');
}

function base64urlBytes(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !BASE64URL.test(value)) return null;
  return Buffer.from(value, 'base64url');
}

/**
 * Whether `value` is a usable {@link PushSubscriptionJson} (as `PushSubscription.toJSON()` gives
 * it; extra fields such as `expirationTime` are allowed): `endpoint` an absolute `https:` URL on a
 * public host ({@link isPrivateHost} refused); with `allowPrivate` (HERALD_PUSH_ALLOW_PRIVATE_ENDPOINTS,
 * for tests and development) private hosts too, and `http:` on loopback hosts,
 * `keys.p256dh` base64url (no padding) of an uncompressed P-256 point (65 bytes, first byte 0x04),
 * `keys.auth` base64url of 16 bytes. Never throws.
 */
export function isPushSubscription(value: unknown, allowPrivate = false): value is PushSubscriptionJson {
  if (typeof value !== 'object' || value === null) return false;
  const { endpoint, keys } = value as { endpoint?: unknown; keys?: unknown };
  if (typeof endpoint !== 'string' || endpoint.length > 2048) return false;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return false;
  if (!allowPrivate && isPrivateHost(url.hostname)) return false;
  if (url.username !== '' || url.password !== '') return false;
  if (typeof keys !== 'object' || keys === null) return false;
  const { p256dh, auth } = keys as { p256dh?: unknown; auth?: unknown };
  const point = base64urlBytes(p256dh);
  const secret = base64urlBytes(auth);
  return point !== null && point.length === 65 && point[0] === 0x04 && secret !== null && secret.length === 16;
}

/**
 * Milliseconds to wait from a Retry-After header value (delta-seconds or an HTTP-date, RFC 9110
 * §10.2.3), capped at one day; undefined when absent or unparsable.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** What came back from the push service: a status and its headers, or a transport error. */
type Answer = { status: number; headers: http.IncomingHttpHeaders } | { error: Error };

function post(details: webpush.RequestDetails, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve) => {
    const url = new URL(details.endpoint);
    const send = url.protocol === 'http:' ? http.request : https.request;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(details.headers)) headers[name] = value as string | number;
    let req: http.ClientRequest;
    try {
      req = send(url, { method: 'POST', headers, signal });
    } catch (err) {
      resolve({ error: err as Error });
      return;
    }
    req.on('response', (res) => {
      // The body (an error description at most) is not needed: drain it so the socket is freed.
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', (error) => resolve({ error }));
      // An abort mid-body may end the response with neither event; the first resolve wins.
      res.on('close', () => resolve({ error: new Error('response aborted') }));
    });
    req.on('error', (error) => resolve({ error }));
    req.end(details.body ?? undefined);
  });
}

function classify(answer: Answer, timedOut: boolean, aborted: boolean): SendOutcome {
  if ('error' in answer) {
    if (timedOut) return { kind: 'retry', reason: 'push service timed out' };
    if (aborted) return { kind: 'retry', reason: 'send aborted' };
    const code = (answer.error as NodeJS.ErrnoException).code;
    return { kind: 'retry', reason: `push service unreachable: ${code ?? answer.error.message}` };
  }
  const { status, headers } = answer;
  if (status >= 200 && status < 300) {
    const location = headers.location;
    return location ? { kind: 'sent', providerId: location } : { kind: 'sent' };
  }
  if (status === 404 || status === 410) return { kind: 'gone', reason: `push subscription ${status === 404 ? 'not found' : 'expired'} (HTTP ${status})` };
  if (status === 429) {
    const afterMs = parseRetryAfterMs(headers['retry-after']);
    return afterMs === undefined
      ? { kind: 'retry', reason: 'push service throttled (HTTP 429)', throttled: true }
      : { kind: 'retry', reason: 'push service throttled (HTTP 429)', throttled: true, afterMs };
  }
  if (status === 413) return { kind: 'failed', reason: 'payload too large for the push service (HTTP 413)', code: 'HTTP_413' };
  if (status === 408 || status >= 500) {
    const afterMs = parseRetryAfterMs(headers['retry-after']);
    const reason = `push service answered HTTP ${status}`;
    return afterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, afterMs };
  }
  const why = status === 403 ? ' (VAPID refused: key mismatch or bad JWT)' : status === 401 ? ' (VAPID missing or invalid)' : '';
  return { kind: 'failed', reason: `push service refused the message: HTTP ${status}${why}`, code: `HTTP_${status}` };
}

/**
 * A Web Push provider (channel `push`, name `web-push`).
 *
 * `send` encrypts `JSON.stringify(message.payload)` for `message.subscription`, signs a VAPID JWT
 * for the endpoint's origin (valid 12 h), sets `TTL` = `message.ttlSeconds`, `Urgency` =
 * `message.urgency` (default `normal`) and `Topic` = {@link pushTopic}(`message.key`), POSTs it
 * and classifies the answer (see the module comment). An invalid subscription (see
 * {@link isPushSubscription}) is `failed` with code `INVALID_SUBSCRIPTION` and sends nothing.
 * `signal` aborts the request (outcome `retry`). Never rejects for the push service's answer;
 * rejects only when called after `close()` (a programming error).
 *
 * @throws Error at creation when the subject is not `mailto:`/`https:` or a key is malformed.
 */
export function createWebPushProvider(options: WebPushProviderOptions): ChannelProvider<PushMessage> {
  const { subject, publicKey, privateKey } = options;
  const allowPrivate = options.allowPrivateEndpoints ?? false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
  // Validates subject and keys now (throws with web-push's message), not at the first send.
  webpush.getVapidHeaders('https://push.example', subject, publicKey, privateKey, 'aes128gcm');
  let closed = false;
  /**
   * The VAPID Authorization header per push service origin: its JWT is valid 12 h, so it is
   * signed once an hour per origin instead of once per send (ES256 signing was ~15% of a send's CPU).
   */
  const authorizations = new Map<string, { header: string; signedAt: number }>();
  const authorizationFor = (endpoint: string): string => {
    const audience = new URL(endpoint).origin;
    const now = Date.now();
    const hit = authorizations.get(audience);
    if (hit !== undefined && now - hit.signedAt < VAPID_RESIGN_MS) return hit.header;
    const header = String(webpush.getVapidHeaders(audience, subject, publicKey, privateKey, 'aes128gcm').Authorization);
    if (authorizations.size >= 1_000) authorizations.clear();
    authorizations.set(audience, { header, signedAt: now });
    return header;
  };

  return {
    channel: 'push',
    name: 'web-push',

    async send(message: PushMessage, signal?: AbortSignal): Promise<SendOutcome> {
      if (closed) throw new Error('web-push provider is closed');
      if (!isPushSubscription(message.subscription, allowPrivate)) {
        return { kind: 'failed', reason: 'invalid push subscription (endpoint or keys)', code: 'INVALID_SUBSCRIPTION' };
      }
      let details: webpush.RequestDetails;
      try {
        details = webpush.generateRequestDetails(message.subscription, JSON.stringify(message.payload), {
          // The cached VAPID header instead of web-push signing a new JWT per send (no vapidDetails:
          // web-push then adds none of its own; Herald never sets its process-wide VAPID details).
          headers: { Authorization: authorizationFor(message.subscription.endpoint) },
          TTL: Math.max(0, Math.floor(message.ttlSeconds)),
          urgency: message.urgency ?? 'normal',
          topic: pushTopic(message.key),
          contentEncoding: 'aes128gcm',
        });
      } catch (err) {
        // The subscription passed validation, so this is e.g. a key that is not on the curve.
        return { kind: 'failed', reason: `cannot encrypt for this subscription: ${(err as Error).message}`, code: 'INVALID_SUBSCRIPTION' };
      }
      const deadline = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
      const answer = await post(details, combined);
      return classify(answer, deadline.aborted, signal?.aborted ?? false);
    },

    async close(): Promise<void> {
      closed = true;
    },
  };
}
