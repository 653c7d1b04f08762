/**
 * A local Web Push service for tests: a node:http server on 127.0.0.1 that plays both the push
 * service (RFC 8030) and the browsers subscribed to it. It refuses what a real push service
 * refuses and, unlike one, also decrypts each message as the browser would, so a test proves the
 * sender's VAPID and encryption are right end to end:
 *
 * - `subscribe()` creates a browser subscription: an ECDH P-256 key pair and a 16-byte auth secret
 *   (RFC 8291 §2), endpoint `http://127.0.0.1:<port>/push/<id>`;
 * - `POST /push/<id>` checks the VAPID `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292 §3):
 *   an ES256 JWT signed by `k`, `aud` = the endpoint's origin, `exp` in the future and at most
 *   24 h ahead (§2), `sub` present; `k` must equal the subscription's applicationServerKey when
 *   one was given (§4.2) — else 403; checks TTL (required, RFC 8030 §5.2), Urgency (§5.3) and
 *   Topic (§5.4) — else 400; decrypts the `aes128gcm` body (RFC 8291 §3.4, §4; RFC 8188 §2) —
 *   else 400; records the message and answers 201 with a Location (§5);
 * - scripted answers: an expired subscription (410), 429 + Retry-After, 5xx for the next N,
 *   403 for the next N, and stalls (no answer) for timeouts.
 */
import { createECDH, createDecipheriv, hkdfSync, randomBytes, randomUUID, type ECDH } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, jwtVerify, decodeProtectedHeader } from 'jose';
import type { PushSubscriptionJson } from '../../sinks/channels/types.ts';

/** One message the peer accepted (verified and decrypted). */
export interface ReceivedPush {
  subscriptionId: string;
  /** The Location the peer answered with. */
  location: string;
  /** Push headers as sent: TTL (seconds), Urgency, Topic (absent when not sent). */
  headers: { ttl: number; urgency: string | undefined; topic: string | undefined };
  /** The verified VAPID claims and key (`k`, base64url). */
  vapid: { sub: string; aud: string; exp: number; k: string };
  /** The decrypted payload, parsed as JSON. */
  payload: unknown;
}

/** A request the peer refused, and why (for test diagnostics). */
export interface RefusedPush {
  subscriptionId: string;
  status: number;
  reason: string;
}

/** Options of {@link PushPeer.subscribe}. */
export interface SubscribeOptions {
  /** The VAPID public key (base64url) the browser subscribed with; sends signed by another key get 403. */
  applicationServerKey?: string;
}

interface Subscription {
  id: string;
  ecdh: ECDH;
  publicKey: Buffer;
  auth: Buffer;
  applicationServerKey: string | undefined;
  expired: boolean;
  /** Undelivered messages by topic (RFC 8030 §5.4: a same-topic message replaces the older). */
  pending: Map<string, ReceivedPush>;
}

/** Scripted answers for the next requests (consumed in this order: 403, 429, 5xx, stall). */
interface Script {
  reject403: number;
  throttle: { count: number; retryAfter: string | undefined };
  fail: { count: number; status: number };
  stall: number;
}

/** A running local push service. */
export interface PushPeer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Every accepted message, in arrival order. */
  readonly received: ReceivedPush[];
  /** Every refused request, in arrival order. */
  readonly refused: RefusedPush[];
  /** Number of POSTs that reached the peer (accepted, refused or scripted). */
  requestCount(): number;
  /** A new browser subscription. */
  subscribe(options?: SubscribeOptions): { id: string; subscription: PushSubscriptionJson };
  /** From now on, sends to this subscription answer 410 Gone. */
  expire(id: string): void;
  /** The next `count` sends answer 429 with `Retry-After: retryAfter` (omitted when undefined). */
  throttleNext(count: number, retryAfter?: string): void;
  /** The next `count` sends answer `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** The next `count` sends answer 403 as for a bad VAPID JWT. */
  rejectVapidNext(count: number): void;
  /** The next `count` sends get no answer until the client gives up (or the peer closes). */
  stallNext(count: number): void;
  /** The messages waiting for an offline browser, one per topic (untopiced ones each count). */
  pending(id: string): ReceivedPush[];
  close(): Promise<void>;
}

/** Decodes an aes128gcm body per RFC 8188 §2 and RFC 8291 §3.4/§4; throws with the reason on any mismatch. */
function decrypt(body: Buffer, sub: Subscription): Buffer {
  // RFC 8188 §2.1 header: salt (16) | rs (uint32 BE) | idlen (1) | keyid (idlen).
  if (body.length < 21) throw new Error('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  // RFC 8291 §4: keyid is the application server's ephemeral ECDH public key (65 bytes).
  if (idlen !== 65) throw new Error(`keyid length ${idlen}, expected 65`);
  const asPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  // RFC 8291 §4: one record only, no longer than rs; a record is ciphertext + 16-byte tag.
  if (rs < 18 || records.length > rs) throw new Error(`record size ${rs} too small for ${records.length} bytes (RFC 8291 §4: one record)`);
  if (records.length < 17) throw new Error('record shorter than the tag');
  // RFC 8291 §3.4: ecdh_secret = ECDH(ua_private, as_public);
  //   IKM = HKDF(salt = auth_secret, ikm = ecdh_secret, info = "WebPush: info" 0x00 ua_public as_public, L = 32).
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, sub.auth, keyInfo, 32));
  // RFC 8188 §2.2/§2.3: CEK = HKDF(salt, IKM, "Content-Encoding: aes128gcm" 0x00, 16);
  //   NONCE = HKDF(salt, IKM, "Content-Encoding: nonce" 0x00, 12), XOR sequence number 0.
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
  // RFC 8188 §2: data, then the delimiter 0x02 (last record), then zero or more 0x00 padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x02) throw new Error('missing last-record padding delimiter 0x02');
  return padded.subarray(0, end);
}

/**
 * Verifies `Authorization: vapid t=<JWT>, k=<key>` per RFC 8292 for a request to `origin`.
 * @returns the claims and key, or a string with the reason of refusal
 */
async function verifyVapid(header: string | undefined, origin: string, sub: Subscription): Promise<ReceivedPush['vapid'] | string> {
  if (!header) return 'no Authorization header';
  const m = /^vapid\s+(.*)$/i.exec(header.trim());
  if (!m) return 'Authorization scheme is not vapid';
  const params = new Map<string, string>();
  for (const part of m[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const t = params.get('t');
  const k = params.get('k');
  if (!t || !k) return 'vapid needs t and k (RFC 8292 §3)';
  // §3.2: k is the uncompressed P-256 point, base64url.
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) return 'k is not an uncompressed P-256 point';
  // §4.2: a subscription bound to an application server key accepts only that key.
  if (sub.applicationServerKey !== undefined && k !== sub.applicationServerKey) return 'k is not the subscription\'s applicationServerKey';
  try {
    if (decodeProtectedHeader(t).alg !== 'ES256') return 'JWT alg is not ES256 (RFC 8292 §2)';
    const key = await importJWK({ kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, 'ES256');
    const { payload } = await jwtVerify(t, key, { algorithms: ['ES256'], audience: origin, requiredClaims: ['exp', 'sub'] });
    const exp = payload.exp!;
    // §2: exp MUST NOT be more than 24 hours from the time of the request.
    if (exp > Math.floor(Date.now() / 1000) + 24 * 3600) return 'JWT exp more than 24 h ahead';
    const subject = String(payload.sub);
    if (!/^(mailto:|https:)/.test(subject)) return 'JWT sub is not a mailto: or https: URI';
    return { sub: subject, aud: origin, exp, k };
  } catch (err) {
    return `JWT refused: ${(err as Error).message}`;
  }
}

/** Starts a push peer on 127.0.0.1 (a free port). */
export async function startPushPeer(): Promise<PushPeer> {
  const subscriptions = new Map<string, Subscription>();
  const received: ReceivedPush[] = [];
  const refused: RefusedPush[] = [];
  const script: Script = { reject403: 0, throttle: { count: 0, retryAfter: undefined }, fail: { count: 0, status: 500 }, stall: 0 };
  let requests = 0;
  let origin = '';

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const match = /^\/push\/([\w-]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end();
      return;
    }
    requests++;
    const id = match[1]!;
    const refuse = (status: number, reason: string, headers: http.OutgoingHttpHeaders = {}): void => {
      refused.push({ subscriptionId: id, status, reason });
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(reason);
    };
    const sub = subscriptions.get(id);
    if (!sub) return refuse(404, 'no such subscription');
    if (sub.expired) return refuse(410, 'subscription expired');
    if (script.reject403 > 0) {
      script.reject403--;
      return refuse(403, 'scripted: VAPID refused');
    }
    if (script.throttle.count > 0) {
      script.throttle.count--;
      const ra = script.throttle.retryAfter;
      return refuse(429, 'scripted: too many requests', ra === undefined ? {} : { 'retry-after': ra });
    }
    if (script.fail.count > 0) {
      script.fail.count--;
      return refuse(script.fail.status, 'scripted: failure');
    }
    if (script.stall > 0) {
      script.stall--;
      refused.push({ subscriptionId: id, status: 0, reason: 'scripted: stalled' });
      return; // never answered; the client times out or the peer's close() drops the socket
    }
    const vapid = await verifyVapid(req.headers.authorization, origin, sub);
    if (typeof vapid === 'string') return refuse(403, vapid);
    // RFC 8030 §5.2: TTL is required.
    const ttlHeader = req.headers.ttl;
    if (typeof ttlHeader !== 'string' || !/^\d+$/.test(ttlHeader)) return refuse(400, 'missing or invalid TTL');
    const urgency = req.headers.urgency as string | undefined;
    if (urgency !== undefined && !['very-low', 'low', 'normal', 'high'].includes(urgency)) return refuse(400, `invalid Urgency ${urgency}`);
    const topic = req.headers.topic as string | undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return refuse(400, `invalid Topic ${topic}`);
    if (req.headers['content-encoding'] !== 'aes128gcm') return refuse(400, `Content-Encoding ${req.headers['content-encoding']} is not aes128gcm`);
    let payload: unknown;
    try {
      payload = JSON.parse(decrypt(body, sub).toString('utf8'));
    } catch (err) {
      return refuse(400, `cannot decrypt: ${(err as Error).message}`);
    }
    const location = `${origin}/message/${randomUUID()}`;
    const message: ReceivedPush = { subscriptionId: id, location, headers: { ttl: Number(ttlHeader), urgency, topic }, vapid, payload };
    received.push(message);
    sub.pending.set(topic ?? location, message);
    res.writeHead(201, { location }).end();
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    refused,
    requestCount: () => requests,
    subscribe(options: SubscribeOptions = {}) {
      const id = randomUUID();
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const publicKey = ecdh.getPublicKey(); // uncompressed, 65 bytes
      const auth = randomBytes(16);
      subscriptions.set(id, { id, ecdh, publicKey, auth, applicationServerKey: options.applicationServerKey, expired: false, pending: new Map() });
      return { id, subscription: { endpoint: `${origin}/push/${id}`, keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') } } };
    },
    expire(id) {
      const sub = subscriptions.get(id);
      if (!sub) throw new Error(`no subscription ${id}`);
      sub.expired = true;
    },
    throttleNext(count, retryAfter) {
      script.throttle = { count, retryAfter };
    },
    failNext(count, status = 500) {
      script.fail = { count, status };
    },
    rejectVapidNext(count) {
      script.reject403 = count;
    },
    stallNext(count) {
      script.stall = count;
    },
    pending(id) {
      return [...(subscriptions.get(id)?.pending.values() ?? [])];
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
