/**
 * The SMS channel's provider: one message = one `POST {base}/v1/messages` to an HTTP SMS API
 * (JSON over HTTPS, `Authorization: Bearer <token>`, `Idempotency-Key: <message.key>`).
 *
 * Request body: `{"to":"+14155550123","from":"<sender>","text":"..."}`; a 2xx answer's JSON
 * `id` is the provider's message id. Every answer is classified (see {@link classifySmsResponse}),
 * never thrown:
 *
 * | answer | outcome |
 * |---|---|
 * | 2xx | `sent` (providerId = body `id`) |
 * | 409 (idempotency key already used) | `sent`: the provider already has this message |
 * | 429 | `retry`, `throttled: true`, `afterMs` from Retry-After (pause the whole provider) |
 * | 408, 5xx | `retry`, `afterMs` from Retry-After when given (e.g. 503) |
 * | 401, 403 (token refused: Herald's configuration, not the message) | `retry`: a DLQ entry per SMS until the token is fixed would lose them all |
 * | network error, timeout, caller abort | `retry` (no `afterMs`) |
 * | other 3xx/4xx | `failed`, code `HTTP_<status>`, reason = the provider's error message (≤ 500 chars) |
 * | `to` not E.164 | `failed`, code `INVALID_E164`, no request made |
 *
 * The idempotency key is what makes `retry` after a timeout safe: the provider may have accepted
 * the first request before the deadline hit; the resend carries the same key, and the provider
 * answers with the original response (or 409) instead of sending a second SMS.
 */
import type { ChannelProvider, SendOutcome, SmsMessage } from '../types.ts';

/** Options of {@link createHttpSmsProvider}. */
export interface HttpSmsProviderOptions {
  /**
   * Base URL of the provider's API, e.g. `https://sms.example.com` (no trailing `/v1`). Must be
   * `https:`; `http:` is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost), for tests.
   */
  baseUrl: string;
  /** API token, sent as `Authorization: Bearer <token>`. Non-empty. */
  apiToken: string;
  /** Sender: an E.164 number or an alphanumeric sender id (1–11 letters, digits, spaces). */
  from: string;
  /** Deadline of one request (connect, headers and body), ms. Default 10,000. */
  requestTimeoutMs?: number;
  /** Clock for HTTP-date Retry-After values, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** Longest `reason` of a `failed` outcome, characters. */
export const MAX_REASON_CHARS = 500;

/** Largest answer body read from the provider, bytes (larger bodies are cut). */
const MAX_BODY_BYTES = 64 * 1024;

const E164 = /^\+[1-9]\d{6,14}$/;
const ALPHANUMERIC_SENDER = /^[A-Za-z0-9 ]{1,11}$/;

/**
 * Whether `phone` is an E.164 number: `+`, a non-zero digit, then 6–14 more digits (7–15 digits
 * in all), nothing else (no spaces, dashes or parentheses). E.g. `+14155550123`.
 */
export function isE164(phone: string): boolean {
  return E164.test(phone);
}

/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3) into ms from `nowMs`.
 *
 * - delta-seconds (`120`): 120,000;
 * - HTTP-date in any of the three forms RFC 9110 §5.6.7 requires recipients to accept
 *   (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`,
 *   asctime `Sun Nov  6 08:49:37 1994`, all UTC): the time until then, 0 if already past.
 *
 * Returns undefined for an absent, empty or unparsable value (the caller then uses its own
 * backoff). No upper bound is applied: capping a provider pause is the channel worker's policy.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  // HTTP-date must name a weekday and a time; refuse anything else Date.parse would guess at.
  const imf = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
  const rfc850 = /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}:\d{2}:\d{2}) GMT$/;
  const asctime = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ( \d|\d{2}) (\d{2}:\d{2}:\d{2}) (\d{4})$/;
  let at = Number.NaN;
  let m: RegExpExecArray | null;
  if (imf.test(v)) {
    at = Date.parse(v);
  } else if ((m = rfc850.exec(v)) !== null) {
    // Two-digit year: RFC 9110 §5.6.7 — one more than 50 years in the future means the past century.
    const yy = Number(m[4]);
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + yy;
    if (year > nowYear + 50) year -= 100;
    at = Date.parse(`${m[2]} ${m[3]} ${year} ${m[5]} GMT`);
  } else if ((m = asctime.exec(v)) !== null) {
    at = Date.parse(`${m[3]!.trim()} ${m[2]} ${m[5]} ${m[4]} GMT`);
  }
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Whether `hostname` (as URL.hostname gives it) is a loopback host. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Cuts `s` to {@link MAX_REASON_CHARS} characters (with `…` when cut). */
function truncate(s: string): string {
  return s.length <= MAX_REASON_CHARS ? s : `${s.slice(0, MAX_REASON_CHARS - 1)}…`;
}

/**
 * The provider's error message from an error body: `{"error":{"message"}}`, `{"error":"..."}`,
 * `{"message"}` or `{"detail"}` (RFC 9457 problem details), else the raw text with whitespace
 * collapsed. Not truncated.
 */
function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (body !== null && typeof body === 'object') {
      const b = body as { error?: unknown; message?: unknown; detail?: unknown; title?: unknown };
      if (b.error !== null && typeof b.error === 'object') {
        const e = b.error as { message?: unknown; code?: unknown };
        if (typeof e.message === 'string') return e.message;
      }
      if (typeof b.error === 'string') return b.error;
      if (typeof b.message === 'string') return b.message;
      if (typeof b.detail === 'string') return b.detail;
      if (typeof b.title === 'string') return b.title;
    }
  } catch {
    // not JSON: use the text
  }
  return text.trim().replace(/\s+/g, ' ');
}

/** The JSON `id` of an answer body when it is a non-empty string (or a number), else undefined. */
function providerIdOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { id?: unknown } | null;
    if (body !== null && typeof body === 'object') {
      if (typeof body.id === 'string' && body.id !== '') return body.id;
      if (typeof body.id === 'number') return String(body.id);
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * Classifies one HTTP answer of `POST /v1/messages` (see the module comment's table).
 *
 * @param status HTTP status code.
 * @param retryAfter The `Retry-After` header value, or null.
 * @param bodyText The answer body as text ('' when unreadable).
 * @param nowMs Current time, epoch ms (for HTTP-date Retry-After).
 */
export function classifySmsResponse(status: number, retryAfter: string | null, bodyText: string, nowMs: number): SendOutcome {
  if (status >= 200 && status < 300) {
    const providerId = providerIdOf(bodyText);
    return providerId === undefined ? { kind: 'sent' } : { kind: 'sent', providerId };
  }
  if (status === 409) {
    // The idempotency key is already used: the provider has (or is sending) this very message.
    const providerId = providerIdOf(bodyText);
    return providerId === undefined ? { kind: 'sent' } : { kind: 'sent', providerId };
  }
  const detail = errorMessage(bodyText);
  if (status === 401 || status === 403) {
    return { kind: 'retry', reason: truncate(`HTTP ${status}: the provider refused HERALD_SMS_TOKEN${detail ? ` (${detail})` : ''}; fix the token, sends are retried`) };
  }
  if (status === 429 || status === 408 || status >= 500) {
    const afterMs = parseRetryAfter(retryAfter, nowMs);
    const reason = truncate(`HTTP ${status}${detail ? `: ${detail}` : ''}`);
    return {
      kind: 'retry',
      reason,
      ...(afterMs === undefined ? {} : { afterMs }),
      ...(status === 429 ? { throttled: true } : {}),
    };
  }
  return { kind: 'failed', code: `HTTP_${status}`, reason: truncate(detail || `HTTP ${status}`) };
}

/** Reads at most {@link MAX_BODY_BYTES} of a response body as UTF-8 text; '' when unreadable. */
async function readBody(res: Response): Promise<string> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      const c = chunk as Uint8Array;
      chunks.push(c);
      size += c.byteLength;
      if (size >= MAX_BODY_BYTES) break; // leaving the loop cancels the rest of the body
    }
  } catch {
    // aborted or reset while reading: classify on the status with what arrived
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

/** Why a fetch failed without an answer, for a `retry` reason. */
function networkReason(err: unknown, timeoutMs: number, callerSignal: AbortSignal | undefined, closed: boolean): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (closed) return 'provider closed';
  if (callerSignal?.aborted === true) return 'aborted by the caller';
  if (e?.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  return `network error: ${e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)}`;
}

/**
 * Creates the HTTP SMS provider (channel `sms`, name `http-sms`).
 *
 * `send` resolves with a {@link SendOutcome} for every answer and every network failure (see the
 * module comment); it rejects only on programming errors: an empty `message.key`, or a send after
 * `close()`. A caller's abort (the `signal` argument) resolves `retry` (the request may have
 * reached the provider; the resend carries the same key). `close()` aborts requests in flight
 * (they resolve `retry`); fetch's connection pool is global and stays.
 *
 * @throws TypeError at creation for a bad `baseUrl` (not a URL, not https outside loopback), an
 *   empty `apiToken`, a `from` that is neither E.164 nor an alphanumeric sender id, or a
 *   non-positive `requestTimeoutMs`.
 */
export function createHttpSmsProvider(options: HttpSmsProviderOptions): ChannelProvider<SmsMessage> {
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new TypeError(`http-sms: baseUrl is not a URL: ${options.baseUrl}`);
  }
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && isLoopback(base.hostname))) {
    throw new TypeError(`http-sms: baseUrl must be https (http only for loopback tests): ${options.baseUrl}`);
  }
  if (options.apiToken === '') throw new TypeError('http-sms: apiToken is empty');
  if (!isE164(options.from) && !ALPHANUMERIC_SENDER.test(options.from)) {
    throw new TypeError(`http-sms: from must be an E.164 number or an alphanumeric sender id (1–11 characters): ${options.from}`);
  }
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`http-sms: requestTimeoutMs must be > 0: ${timeoutMs}`);
  const now = options.now ?? Date.now;
  const endpoint = new URL('v1/messages', base.href.endsWith('/') ? base.href : `${base.href}/`).href;
  const authorization = `Bearer ${options.apiToken}`;
  const closing = new AbortController();

  return {
    channel: 'sms',
    name: 'http-sms',

    async send(message: SmsMessage, signal?: AbortSignal): Promise<SendOutcome> {
      if (closing.signal.aborted) throw new Error('http-sms: send after close()');
      if (typeof message.key !== 'string' || message.key === '') throw new TypeError('http-sms: message.key is empty');
      if (!isE164(message.to)) {
        return { kind: 'failed', code: 'INVALID_E164', reason: truncate(`not an E.164 phone number: ${JSON.stringify(message.to)}`) };
      }
      const signals = [AbortSignal.timeout(timeoutMs), closing.signal];
      if (signal !== undefined) signals.push(signal);
      const combined = AbortSignal.any(signals);
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: 'POST',
          headers: {
            Authorization: authorization,
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'Idempotency-Key': message.key,
          },
          body: JSON.stringify({ to: message.to, from: options.from, text: message.text }),
          redirect: 'manual',
          signal: combined,
        });
      } catch (err) {
        return { kind: 'retry', reason: networkReason(err, timeoutMs, signal, closing.signal.aborted) };
      }
      const text = await readBody(res);
      return classifySmsResponse(res.status, res.headers.get('retry-after'), text, now());
    },

    async close(): Promise<void> {
      closing.abort(new Error('http-sms provider closed'));
    },
  };
}
