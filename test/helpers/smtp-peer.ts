/**
 * A real local SMTP server for tests: smtp-server on 127.0.0.1 (random port, no TLS: STARTTLS is
 * disabled), every accepted mail parsed with mailparser and recorded.
 *
 * - Auth: with `auth` set, AUTH PLAIN/LOGIN is required (allowed without TLS: loopback only) and
 *   checked against it; without it, AUTH is disabled and anyone may send.
 * - Scripted errors: {@link SmtpPeer.failNext} answers the next N mails with an SMTP reply code
 *   (e.g. 451 temporary, 550 permanent), either at `RCPT TO` or after `DATA` (the message body
 *   is read, then refused); a refused mail is not recorded.
 * - Rate limit: {@link SmtpPeer.setRateLimit} refuses mails above N per sliding second with
 *   `421 4.7.0` (SMTP's "too many, try later", its counterpart of HTTP 429) at `DATA`; refused
 *   mails are counted in `rateLimited`, accepted ones keep their arrival time in `received[].at`.
 * - Down for a while: {@link SmtpPeer.stop} closes the listener and drops every open connection
 *   (clients then get connection refused); {@link SmtpPeer.start} listens again on the same port.
 */
import type { AddressInfo, Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One mail the peer accepted (answered 250 after DATA). */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM). */
  envelopeFrom: string;
  /** Envelope recipients (RCPT TO). */
  envelopeTo: string[];
  /** The From header's addresses. */
  from: string[];
  /** The To header's addresses. */
  to: string[];
  subject: string | undefined;
  text: string | undefined;
  /** The HTML part as sent, or undefined for a text-only mail. */
  html: string | undefined;
  /** The Message-ID header, angle brackets included. */
  messageId: string | undefined;
  /** Header values by lower-case name (first occurrence, unfolded, as sent: no decoding). */
  headers: Map<string, string>;
  /** Arrival time, epoch ms. */
  at: number;
}

/** Options of {@link startSmtpPeer}. */
export interface SmtpPeerOptions {
  /** Require AUTH with these credentials. Default: no AUTH. */
  auth?: { user: string; pass: string };
}

/** A scripted failure: see {@link SmtpPeer.failNext}. */
export interface ScriptedFailure {
  /** SMTP reply code, 400–599. */
  code: number;
  /** Where to refuse: at `RCPT TO` (like an unknown mailbox) or after the body (like a content filter). Default `data`. */
  phase?: 'rcpt' | 'data';
  /** Reply text. Default `Scripted failure <code>`. */
  message?: string;
}

/** The running peer. */
export interface SmtpPeer {
  /** `smtp://127.0.0.1:<port>`, with `user:pass@` when auth is on. */
  readonly url: string;
  readonly port: number;
  /** Accepted mails, in arrival order. */
  readonly received: ReceivedMail[];
  /** TCP connections accepted so far (a pooled client reuses them). */
  readonly connections: number;
  /** Mails refused by {@link failNext}. */
  readonly refused: number;
  /** Mails refused by the rate limit. */
  readonly rateLimited: number;
  /** Accept at most `perSecond` mails in any sliding second (421 above it); null: no limit. */
  setRateLimit(perSecond: number | null): void;
  /** Answers the next `count` mails with `failure` (queued after earlier scripts). */
  failNext(count: number, failure: ScriptedFailure): void;
  /** Resolves once at least `count` mails were accepted; rejects after `timeoutMs` (default 10 s). */
  waitForMails(count: number, timeoutMs?: number): Promise<void>;
  /** Goes down: stops listening and drops every open connection. */
  stop(): Promise<void>;
  /** Comes back up on the same port. */
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function addresses(value: { value: { address?: string | undefined }[] } | { value: { address?: string | undefined }[] }[] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((o) => o.value.map((a) => a.address ?? ''));
}

/**
 * Starts the peer on 127.0.0.1 with a random port.
 * @throws when the port cannot be bound
 */
export async function startSmtpPeer(options: SmtpPeerOptions = {}): Promise<SmtpPeer> {
  const received: ReceivedMail[] = [];
  const script: ScriptedFailure[] = [];
  let connections = 0;
  let refused = 0;
  let rateLimited = 0;
  let rate: number | null = null;
  /** Arrival times (ms) of mails accepted within the last second, for the rate limit. */
  const window: number[] = [];
  let port = 0;
  let server: SMTPServer | undefined;
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();

  /** Takes the next scripted failure if it applies to `phase`. */
  function takeFailure(phase: 'rcpt' | 'data'): ScriptedFailure | undefined {
    const next = script[0];
    if (next === undefined || (next.phase ?? 'data') !== phase) return undefined;
    script.shift();
    refused++;
    return next;
  }

  const serverOptions: SMTPServerOptions = {
    logger: false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    closeTimeout: 100,
    disableReverseLookup: true, // no DNS lookups for loopback clients
    // Note: smtp-server holds every greeting 100 ms (early-talker check, not configurable), so each
    // new connection costs at least that; pooled clients pay it once per connection.
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(smtpError(535, 'Authentication credentials invalid'));
      }
    },
    onRcptTo(_address, _session, callback) {
      const f = takeFailure('rcpt');
      callback(f ? smtpError(f.code, f.message ?? `Scripted failure ${f.code}`) : undefined);
    },
    onData(stream, session, callback) {
      if (rate !== null) {
        const now = Date.now();
        while (window.length > 0 && window[0]! <= now - 1_000) window.shift();
        if (window.length >= rate) {
          rateLimited++;
          stream.on('end', () => callback(smtpError(421, '4.7.0 Rate limit exceeded, try again later')));
          stream.resume();
          return;
        }
        window.push(now);
      }
      const f = takeFailure('data');
      if (f) {
        stream.on('end', () => callback(smtpError(f.code, f.message ?? `Scripted failure ${f.code}`)));
        stream.resume();
        return;
      }
      simpleParser(stream).then(
        (mail) => {
          const headers = new Map<string, string>();
          for (const h of mail.headerLines) {
            if (headers.has(h.key)) continue;
            const colon = h.line.indexOf(':');
            headers.set(h.key, h.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
          }
          const envelopeFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
          received.push({
            envelopeFrom,
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            from: addresses(mail.from),
            to: addresses(mail.to),
            subject: mail.subject,
            text: mail.text,
            html: typeof mail.html === 'string' ? mail.html : undefined,
            messageId: mail.messageId,
            headers,
            at: Date.now(),
          });
          callback(null, 'OK: queued as ' + String(received.length));
          for (const w of waiters) w();
        },
        (err: unknown) => callback(smtpError(451, `Cannot parse message: ${String(err)}`)),
      );
    },
  };

  async function listen(): Promise<void> {
    const s = new SMTPServer(serverOptions);
    s.on('error', () => {}); // client resets while stopping are expected
    s.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    port = (s.server.address() as AddressInfo).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (s === undefined) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  await listen();
  const credentials = options.auth ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@` : '';

  return {
    url: `smtp://${credentials}127.0.0.1:${port}`,
    port,
    received,
    get connections() {
      return connections;
    },
    get refused() {
      return refused;
    },
    get rateLimited() {
      return rateLimited;
    },
    setRateLimit(perSecond) {
      rate = perSecond;
      window.length = 0;
    },
    failNext(count, failure) {
      for (let i = 0; i < count; i++) script.push(failure);
    },
    waitForMails(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (received.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`smtp-peer: ${received.length} of ${count} mails after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    stop,
    async start() {
      if (server === undefined) await listen();
    },
    close: stop,
  };
}
