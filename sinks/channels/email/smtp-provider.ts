/**
 * The email channel's provider: one message = one mail over SMTP (nodemailer), to any SMTP
 * server or relay (a provider's SMTP endpoint, Postfix, a local test peer).
 *
 * Every mail carries a Message-ID derived from the idempotency key ({@link messageIdFor}:
 * `<sha256(key)@herald>`) and the key itself in `X-Herald-Key`, so a resend after a crash between
 * the server's 250 and our commit is the same message to the receiver: relays and mailbox
 * providers that deduplicate by Message-ID drop the copy, and mail clients thread it as one.
 *
 * Every answer is classified (see {@link classifySmtpError}), never thrown:
 *
 * | answer | outcome |
 * |---|---|
 * | 250 after DATA | `sent` (providerId = the server's final reply, e.g. `250 OK: queued as 1A2B`) |
 * | 421, or 450/451/452 saying rate/too many/throttle (the server's "slow down") | `retry`, `throttled: true` (pause the provider, no attempt counted) |
 * | other 4xx reply (450, 451, 452, …), 503 | `retry` |
 * | connection refused/reset/closed, DNS, TLS, timeouts (connect, greeting, socket) | `retry` |
 * | authentication failed (EAUTH; a server configuration problem, not the message's) | `retry`, logged as an error |
 * | caller abort (the `signal`) | `retry` |
 * | 5xx reply (550 mailbox unavailable, 553 bad address, 554 rejected, …) | `failed`, code `SMTP_<reply code>` |
 * | envelope refused by nodemailer without a reply (EENVELOPE) | `failed`, code `EENVELOPE` |
 * | `to` not a valid address ({@link isValidEmail}) | `failed`, code `INVALID_ADDRESS`, no connection made |
 *
 * Pooling: with `pool` set, messages share up to `maxConnections` SMTP connections, each reused
 * for `maxMessages` mails (nodemailer's pooled transport); without it every send opens its own
 * connection (fine for tests, slow in production). The pool puts a message whose connection was
 * closed under it (a 421, a dropped socket) back in its queue and sends it on a new connection,
 * at most 5 times, before reporting the error; that resend, like the channel worker's, carries
 * the same Message-ID.
 */
import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { createTransport } from 'nodemailer';
import { logger as rootLogger, type Logger } from '../../../core/logger.ts';
import type { ChannelProvider, EmailMessage, SendOutcome } from '../types.ts';
import { isValidEmail } from './address.ts';

/** Options of {@link createSmtpProvider}. */
export interface SmtpProviderOptions {
  /**
   * The SMTP server: `smtp://[user:pass@]host[:port]` (plain, upgraded with STARTTLS when the
   * server offers it; port default 587) or `smtps://[user:pass@]host[:port]` (TLS from the first
   * byte; port default 465). User and password are percent-decoded; both or neither.
   */
  url: string;
  /** Envelope sender and From header: a bare address ({@link isValidEmail}), no display name. */
  from: string;
  /** Pooled connections; absent or `false` = one connection per message. */
  pool?: false | {
    /** Most connections open at once. Default 5. */
    maxConnections?: number;
    /** Mails sent over one connection before it is replaced. Default 100. */
    maxMessages?: number;
  };
  /** Deadlines, ms. */
  timeouts?: {
    /** TCP (and TLS) connect. Default 10,000. */
    connectionMs?: number;
    /** From connected to the server's 220 greeting. Default 10,000. */
    greetingMs?: number;
    /** Inactivity on an open connection (a reply that never comes). Default 30,000. */
    socketMs?: number;
  };
  /** Fail unless the server upgrades a `smtp://` connection with STARTTLS. Default false. */
  requireTls?: boolean;
  /** Extra `tls.connect` options (e.g. `ca`, `servername`; `rejectUnauthorized: false` for tests only). */
  tls?: ConnectionOptions;
  /** Right-hand side of generated Message-IDs. Default `herald`. Must be a dot-atom. */
  messageIdDomain?: string;
  /** Logger; default the root logger's child `{ module: 'smtp-provider' }`. */
  logger?: Logger;
}

/** Code of `failed` outcomes for a `to` that {@link isValidEmail} refuses. */
export const INVALID_ADDRESS = 'INVALID_ADDRESS';

/** Longest `reason` of an outcome, characters (server replies can be long). */
export const MAX_REASON_CHARS = 500;

const DEFAULT_TIMEOUTS = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 };
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/**
 * The Message-ID of the mail for idempotency key `key`: `<` + hex SHA-256 of the key (UTF-8) +
 * `@` + `domain` + `>`, e.g. `<9f86d0…@herald>`. The same key always gives the same id.
 */
export function messageIdFor(key: string, domain = 'herald'): string {
  return `<${createHash('sha256').update(key, 'utf8').digest('hex')}@${domain}>`;
}

/** What {@link classifySmtpError} reads of a nodemailer error (all optional). */
export interface SmtpErrorLike {
  /** nodemailer's code: ECONNECTION, ETIMEDOUT, ESOCKET, EENVELOPE, EMESSAGE, EAUTH, EABORT, … */
  code?: string | undefined;
  /** The SMTP reply code, when the server answered. */
  responseCode?: number | undefined;
  /** The server's reply text. */
  response?: string | undefined;
  /** The socket error under ESOCKET, e.g. ECONNREFUSED. */
  originalCode?: string | undefined;
  message?: string | undefined;
}

/**
 * Classifies a failed nodemailer send into a {@link SendOutcome} (never `sent`, never `gone`:
 * SMTP has no "this address was unsubscribed" answer distinct from 550). Order of the rules:
 *
 * 1. EAUTH/ENOAUTH (credentials refused or missing) → `retry`: the server's configuration, not
 *    the message, is at fault; a permanent DLQ would lose every mail until it is fixed.
 * 2. An SMTP reply code: 4xx or 503 → `retry`; any other 5xx → `failed` `SMTP_<code>`; 2xx/3xx
 *    where another answer was expected (a confused server) → `retry`.
 * 3. No reply: EENVELOPE, EMAXRECIPIENTS (nodemailer refused the envelope) → `failed` with that
 *    code; everything else (connection refused/closed, timeouts, DNS, TLS, protocol errors,
 *    aborts) → `retry`.
 */
export function classifySmtpError(err: SmtpErrorLike): Exclude<SendOutcome, { kind: 'sent' } | { kind: 'gone' }> {
  const code = err.code ?? 'UNKNOWN';
  const detail = (err.response ?? err.message ?? '').slice(0, MAX_REASON_CHARS);
  if (code === 'EAUTH' || code === 'ENOAUTH') return { kind: 'retry', reason: `smtp authentication failed: ${detail}` };
  const reply = err.responseCode;
  if (typeof reply === 'number' && reply >= 200 && reply < 600) {
    if (reply >= 500 && reply !== 503) return { kind: 'failed', reason: detail || `SMTP ${reply}`, code: `SMTP_${reply}` };
    if (reply === 421 || (reply >= 450 && reply <= 452 && /rate|too many|throttl|try again later/i.test(detail))) {
      return { kind: 'retry', reason: detail || `SMTP ${reply}`, throttled: true };
    }
    return { kind: 'retry', reason: detail || `SMTP ${reply}` };
  }
  if (code === 'EENVELOPE' || code === 'EMAXRECIPIENTS') return { kind: 'failed', reason: detail || code, code };
  const cause = err.originalCode !== undefined && err.originalCode !== code ? `${code}/${err.originalCode}` : code;
  return { kind: 'retry', reason: `${cause}: ${detail}`.slice(0, MAX_REASON_CHARS) };
}

/** Parsed `url` option. */
interface SmtpEndpoint {
  host: string;
  port: number | undefined;
  secure: boolean;
  auth: { user: string; pass: string } | undefined;
}

function parseSmtpUrl(raw: string): SmtpEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`smtp: url is not a URL: ${redact(raw)}`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new TypeError(`smtp: url must be smtp:// or smtps://: ${redact(raw)}`);
  if (url.hostname === '') throw new TypeError(`smtp: url has no host: ${redact(raw)}`);
  if ((url.username === '') !== (url.password === '')) throw new TypeError('smtp: url must give both user and password, or neither');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port: url.port === '' ? undefined : Number(url.port),
    secure: url.protocol === 'smtps:',
    auth: url.username === '' ? undefined : { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
  };
}

/** The URL without its password, for error messages and logs. */
function redact(raw: string): string {
  return raw.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`smtp: ${name} must be > 0: ${v}`);
  return v;
}

/** Header values must stay on one line; nodemailer encodes the rest (RFC 2047). */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

/**
 * Creates the SMTP email provider (`channel` `email`, `name` `smtp`).
 *
 * `send` validates `to`, then sends `text` (and `html` as given, when present: escaping is the
 * template's job) from `from` with the key's Message-ID and `X-Herald-Key`, and classifies the
 * result (module comment). It rejects only on programming errors: an empty `key`, a send after
 * `close()`. `close()` closes the pool's connections; messages already handed to the pool finish
 * or fail first.
 *
 * @throws TypeError at creation for a bad `url`, `from`, timeout, pool size or `messageIdDomain`.
 */
export function createSmtpProvider(options: SmtpProviderOptions): ChannelProvider<EmailMessage> {
  const endpoint = parseSmtpUrl(options.url);
  if (!isValidEmail(options.from)) throw new TypeError(`smtp: from is not a bare email address: ${options.from}`);
  const domain = options.messageIdDomain ?? 'herald';
  if (!DOT_ATOM.test(domain)) throw new TypeError(`smtp: messageIdDomain must be a dot-atom: ${domain}`);
  const timeouts = {
    connectionMs: positive('timeouts.connectionMs', options.timeouts?.connectionMs, DEFAULT_TIMEOUTS.connectionMs),
    greetingMs: positive('timeouts.greetingMs', options.timeouts?.greetingMs, DEFAULT_TIMEOUTS.greetingMs),
    socketMs: positive('timeouts.socketMs', options.timeouts?.socketMs, DEFAULT_TIMEOUTS.socketMs),
  };
  const log = options.logger ?? rootLogger.child({ module: 'smtp-provider' });
  const common = {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.secure,
    auth: endpoint.auth,
    requireTLS: options.requireTls ?? false,
    tls: options.tls,
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    logger: false,
    // Messages never attach files or URLs: nothing in a message may make nodemailer read them.
    disableFileAccess: true,
    disableUrlAccess: true,
  } as const;
  const transporter = options.pool
    ? createTransport({
        ...common,
        pool: true,
        maxConnections: positive('pool.maxConnections', options.pool.maxConnections, 5),
        maxMessages: positive('pool.maxMessages', options.pool.maxMessages, 100),
      })
    : createTransport(common);
  let closed = false;
  const target = `${endpoint.secure ? 'smtps' : 'smtp'}://${endpoint.host}${endpoint.port === undefined ? '' : `:${endpoint.port}`}`;

  return {
    channel: 'email',
    name: 'smtp',

    async send(message: EmailMessage, signal?: AbortSignal): Promise<SendOutcome> {
      if (closed) throw new Error('smtp: send after close()');
      if (typeof message.key !== 'string' || message.key === '') throw new TypeError('smtp: message.key is empty');
      if (!isValidEmail(message.to)) return { kind: 'failed', reason: 'not a valid email address', code: INVALID_ADDRESS };
      if (signal?.aborted) return { kind: 'retry', reason: 'aborted before sending' };
      const messageId = messageIdFor(message.key, domain);
      try {
        const info = await transporter.sendMail({
          from: options.from,
          to: message.to,
          subject: oneLine(message.subject),
          text: message.text,
          ...(message.html === undefined ? {} : { html: message.html }),
          messageId,
          headers: { 'X-Herald-Key': oneLine(message.key) },
          envelope: { from: options.from, to: [message.to] },
          disableFileAccess: true,
          disableUrlAccess: true,
          ...(signal === undefined ? {} : { signal }),
        });
        log.debug({ key: message.key, messageId, response: info.response }, 'email sent');
        return { kind: 'sent', providerId: info.response };
      } catch (err) {
        const e = err as SmtpErrorLike;
        const outcome = classifySmtpError(e);
        const fields = { key: message.key, messageId, server: target, code: e.code, responseCode: e.responseCode, outcome: outcome.kind };
        if (e.code === 'EAUTH' || e.code === 'ENOAUTH') log.error(fields, 'smtp authentication failed');
        else log.debug(fields, 'email not sent');
        return outcome;
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      transporter.close();
    },
  };
}
