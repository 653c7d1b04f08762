/**
 * A real local HTTP SMS provider for tests: a node:http server on 127.0.0.1 (random port) that
 * speaks the API of sinks/channels/sms/http-sms-provider.ts and records what it gets.
 *
 * API: `POST /v1/messages`, `Authorization: Bearer <token>`, JSON `{"to","from","text"}`, optional
 * `Idempotency-Key`. Answers:
 * - 201 `{"id":"SM…","status":"queued","to","from","text"}`: accepted and recorded;
 * - 401 wrong/missing bearer token; 404 other paths; 405 other methods;
 * - 400 invalid body (not JSON, `to`/`from`/`text` missing or not strings, `to` not E.164) and for
 *   numbers scripted with {@link SmsPeer.rejectNumber};
 * - 429 with `Retry-After` over the scripted requests-per-second limit or for
 *   {@link SmsPeer.throttleNext};
 * - 500/503 while scripted "down" ({@link SmsPeer.failNext}, {@link SmsPeer.downFor}).
 *
 * Idempotency (like the IETF draft "The Idempotency-Key HTTP Header Field"): the answer to the
 * first request with a key (201 or 400 from the checks above) is stored with a SHA-256 of its
 * `{to, from, text}`. The same key with the same body replays the stored status and body (header
 * `Idempotent-Replayed: true`) and records nothing new; with a different body it answers 422
 * `idempotency_key_reused`. With {@link SmsPeer.replayAs409} set, a same-body reuse answers 409
 * `idempotency_key_used` (with the original `id`) instead of the replay, as some providers do.
 * 401, 429 and 5xx answers are not stored (a retry with the key is processed normally).
 *
 * Order of checks: auth → scripted 5xx → scripted 429 / rate limit → body → idempotency →
 * rejected numbers → accept. A scripted delay ({@link SmsPeer.delayNext}) holds the answer
 * after the request was processed, so a client that times out leaves an accepted message behind.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One message the peer accepted. */
export interface RecordedSms {
  /** The peer's id (`SM` + 16 hex digits), also the answer's `id`. */
  id: string;
  to: string;
  from: string;
  text: string;
  /** The request's Idempotency-Key, or null. */
  idempotencyKey: string | null;
  /** Arrival time, epoch ms. */
  at: number;
}

/** One request the peer answered (every request, accepted or not). */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Request headers (lower-case names, as node:http gives them). */
  headers: http.IncomingHttpHeaders;
  /** Raw request body. */
  body: string;
  /** Status the peer answered. */
  status: number;
  /** Arrival time, epoch ms. */
  at: number;
}

/** Options of {@link startSmsPeer}. */
export interface SmsPeerOptions {
  /** Accepted bearer token. Default `test-sms-token`. */
  token?: string;
}

/** A running peer; see the module comment. */
export interface SmsPeer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the API is under `/v1`). */
  readonly url: string;
  /** The accepted bearer token. */
  readonly token: string;
  /** Accepted messages, in arrival order (replays are not recorded again). */
  readonly messages: RecordedSms[];
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** When true, a same-key same-body request answers 409 instead of replaying. Default false. */
  replayAs409: boolean;
  /**
   * Requests per second above which the peer answers 429 (sliding 1 s window over authorised
   * requests), with `Retry-After: <retryAfterSeconds>` (default 1). null switches the limit off.
   */
  setRateLimit(perSecond: number | null, retryAfterSeconds?: number): void;
  /** The next `n` authorised requests get 429 with this exact `Retry-After` value (omitted when null). */
  throttleNext(n: number, retryAfter: string | null): void;
  /** The next `n` authorised requests get `status` (default 503), with `Retry-After` when given. */
  failNext(n: number, status?: number, retryAfter?: string): void;
  /** "Down for a while": for `ms` from now, authorised requests get `status` (default 503). */
  downFor(ms: number, status?: number, retryAfter?: string): void;
  /** Messages to `to` are refused with 400 and `message` (a permanent failure). */
  rejectNumber(to: string, message?: string): void;
  /** Messages to `to` are accepted again (undoes {@link rejectNumber}). */
  acceptNumber(to: string): void;
  /** The next `n` answers are held back `ms` after processing (the message is already accepted). */
  delayNext(n: number, ms: number): void;
  /** Closes the server and every open connection; pending delayed answers are dropped. */
  stop(): Promise<void>;
}

interface StoredAnswer {
  bodyHash: string;
  status: number;
  body: unknown;
  id: string | null;
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** Starts a peer on 127.0.0.1 with a random port. */
export async function startSmsPeer(options: SmsPeerOptions = {}): Promise<SmsPeer> {
  const token = options.token ?? 'test-sms-token';
  const messages: RecordedSms[] = [];
  const requests: RecordedRequest[] = [];
  const idempotency = new Map<string, StoredAnswer>();
  const rejected = new Map<string, string>();
  const recent: number[] = []; // arrival times of authorised requests in the last second
  const timers = new Set<NodeJS.Timeout>();
  let rate: { perSecond: number; retryAfterSeconds: number } | null = null;
  let throttle: { n: number; retryAfter: string | null } = { n: 0, retryAfter: null };
  let fail: { n: number; status: number; retryAfter: string | undefined } = { n: 0, status: 503, retryAfter: undefined };
  let down: { until: number; status: number; retryAfter: string | undefined } = { until: 0, status: 503, retryAfter: undefined };
  let delay: { n: number; ms: number } = { n: 0, ms: 0 };
  let seq = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const record: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, status: 0, at };
      requests.push(record);
      const answer = (status: number, json: unknown, headers: Record<string, string> = {}): void => {
        record.status = status;
        const write = (): void => {
          if (res.destroyed) return;
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(json));
        };
        if (delay.n > 0) {
          delay.n--;
          const t = setTimeout(() => {
            timers.delete(t);
            write();
          }, delay.ms);
          timers.add(t);
        } else {
          write();
        }
      };
      const error = (status: number, code: string, message: string, headers?: Record<string, string>): void => answer(status, { error: { code, message } }, headers);

      if (record.path !== '/v1/messages') return error(404, 'not_found', `no route ${record.path}`);
      if (record.method !== 'POST') return error(405, 'method_not_allowed', 'use POST');
      if (req.headers.authorization !== `Bearer ${token}`) return error(401, 'unauthorized', 'invalid or missing API token');

      if (fail.n > 0) {
        fail.n--;
        return error(fail.status, 'unavailable', 'scripted failure', fail.retryAfter === undefined ? {} : { 'retry-after': fail.retryAfter });
      }
      if (at < down.until) return error(down.status, 'unavailable', 'down for maintenance', down.retryAfter === undefined ? {} : { 'retry-after': down.retryAfter });
      if (throttle.n > 0) {
        throttle.n--;
        return error(429, 'rate_limited', 'too many requests', throttle.retryAfter === null ? {} : { 'retry-after': throttle.retryAfter });
      }
      while (recent.length > 0 && (recent[0] as number) <= at - 1_000) recent.shift();
      if (rate !== null && recent.length >= rate.perSecond) {
        return error(429, 'rate_limited', `more than ${rate.perSecond} requests per second`, { 'retry-after': String(rate.retryAfterSeconds) });
      }
      recent.push(at);

      let parsed: { to?: unknown; from?: unknown; text?: unknown };
      try {
        parsed = JSON.parse(body) as typeof parsed;
        if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
      } catch {
        return error(400, 'invalid_json', 'body is not a JSON object');
      }
      const { to, from, text } = parsed;
      const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
      const bodyHash = createHash('sha256').update(JSON.stringify([to, from, text])).digest('hex');
      if (key !== null) {
        const stored = idempotency.get(key);
        if (stored !== undefined) {
          if (stored.bodyHash !== bodyHash) return error(422, 'idempotency_key_reused', 'Idempotency-Key already used with a different request body');
          if (peer.replayAs409) return answer(409, { error: { code: 'idempotency_key_used', message: 'idempotency key already used' }, ...(stored.id === null ? {} : { id: stored.id }) });
          return answer(stored.status, stored.body, { 'idempotent-replayed': 'true' });
        }
      }
      const store = (status: number, json: unknown, id: string | null): void => {
        if (key !== null) idempotency.set(key, { bodyHash, status, body: json, id });
        answer(status, json);
      };
      if (typeof to !== 'string' || typeof from !== 'string' || typeof text !== 'string') {
        return store(400, { error: { code: 'invalid_request', message: '"to", "from" and "text" must be strings' } }, null);
      }
      if (!E164.test(to)) return store(400, { error: { code: 'invalid_number', message: `"to" is not an E.164 number: ${to}` } }, null);
      const refusal = rejected.get(to);
      if (refusal !== undefined) return store(400, { error: { code: 'invalid_number', message: refusal } }, null);

      const id = `SM${(++seq).toString(16).padStart(16, '0')}`;
      messages.push({ id, to, from, text, idempotencyKey: key, at });
      store(201, { id, status: 'queued', to, from, text }, id);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const peer: SmsPeer = {
    url: `http://127.0.0.1:${port}`,
    token,
    messages,
    requests,
    replayAs409: false,
    setRateLimit(perSecond, retryAfterSeconds = 1) {
      rate = perSecond === null ? null : { perSecond, retryAfterSeconds };
    },
    throttleNext(n, retryAfter) {
      throttle = { n, retryAfter };
    },
    failNext(n, status = 503, retryAfter) {
      fail = { n, status, retryAfter };
    },
    downFor(ms, status = 503, retryAfter) {
      down = { until: Date.now() + ms, status, retryAfter };
    },
    rejectNumber(to, message = `the number ${to} cannot receive SMS`) {
      rejected.set(to, message);
    },
    acceptNumber(to) {
      rejected.delete(to);
    },
    delayNext(n, ms) {
      delay = { n, ms };
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  return peer;
}
