/**
 * The Web Push provider against a real local push service (test/helpers/push-peer.ts) that
 * verifies the VAPID JWT (RFC 8292) and decrypts the aes128gcm payload (RFC 8291) like a browser.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import webpush from 'web-push';
import { createWebPushProvider, generateVapidKeys, isPushSubscription, parseRetryAfterMs, pushTopic } from '../../../sinks/channels/push/web-push-provider.ts';
import type { PushMessage, PushSubscriptionJson } from '../../../sinks/channels/types.ts';
import { startPushPeer, type PushPeer } from '../../helpers/push-peer.ts';

const SUBJECT = 'mailto:ops@herald.example';
const vapid = generateVapidKeys();
let peer: PushPeer;

beforeAll(async () => {
  peer = await startPushPeer();
});
afterAll(async () => {
  await peer.close();
});

function provider(keys = vapid, timeoutMs = 5_000) {
  return createWebPushProvider({ subject: SUBJECT, publicKey: keys.publicKey, privateKey: keys.privateKey, timeoutMs, allowPrivateEndpoints: true });
}

function message(subscription: PushSubscriptionJson, key = 'n-1:alice:push', extra: Partial<PushMessage> = {}): PushMessage {
  return { key, subscription, payload: { title: 'Shipped', body: 'Order 1234 is on its way', url: 'https://shop.example/o/1234', id: 'n-1' }, ttlSeconds: 3600, ...extra };
}

describe('web-push provider against a local push service', () => {
  it('delivers: the peer verified the VAPID JWT and decrypted the exact payload', async () => {
    const { id, subscription } = peer.subscribe({ applicationServerKey: vapid.publicKey });
    const p = provider();
    const msg = message(subscription, 'n-1:alice:push', { urgency: 'high', ttlSeconds: 60 });
    const outcome = await p.send(msg);
    const got = peer.received.find((r) => r.subscriptionId === id);
    expect(got, JSON.stringify(peer.refused)).toBeDefined();
    expect(outcome).toEqual({ kind: 'sent', providerId: got!.location });
    expect(got!.payload).toEqual(msg.payload);
    expect(got!.vapid).toMatchObject({ sub: SUBJECT, aud: peer.origin, k: vapid.publicKey });
    expect(got!.vapid.exp).toBeGreaterThan(Date.now() / 1000);
    expect(got!.headers).toEqual({ ttl: 60, urgency: 'high', topic: pushTopic('n-1:alice:push') });
    expect(p.channel).toBe('push');
    expect(p.name).toBe('web-push');
    await p.close();
  });

  it('signs one VAPID JWT per push service and reuses it (the peer verifies every send)', async () => {
    const sign = vi.spyOn(webpush, 'getVapidHeaders');
    try {
      const { id, subscription } = peer.subscribe({ applicationServerKey: vapid.publicKey });
      const p = provider();
      for (let i = 0; i < 3; i++) expect((await p.send(message(subscription, `n-${10 + i}:carol:push`))).kind).toBe('sent');
      expect(peer.received.filter((r) => r.subscriptionId === id)).toHaveLength(3);
      // (the other call is the key check at creation, for a placeholder audience)
      expect(sign.mock.calls.filter((c) => c[0] === peer.origin)).toHaveLength(1);
    } finally {
      sign.mockRestore();
    }
  });

  it('sends the same Topic for a resend of the same key, so the push service replaces it', async () => {
    const { id, subscription } = peer.subscribe({ applicationServerKey: vapid.publicKey });
    const p = provider();
    expect((await p.send(message(subscription, 'n-2:bob:push'))).kind).toBe('sent');
    expect((await p.send(message(subscription, 'n-2:bob:push'))).kind).toBe('sent');
    expect((await p.send(message(subscription, 'n-3:bob:push'))).kind).toBe('sent');
    const mine = peer.received.filter((r) => r.subscriptionId === id);
    expect(mine.map((r) => r.headers.topic)).toEqual([pushTopic('n-2:bob:push'), pushTopic('n-2:bob:push'), pushTopic('n-3:bob:push')]);
    expect(mine[0]!.headers.urgency).toBe('normal'); // default
    expect(peer.pending(id)).toHaveLength(2); // the resend replaced the first copy
  });

  it('an expired subscription (410) or an unknown one (404) is gone', async () => {
    const { id, subscription } = peer.subscribe();
    peer.expire(id);
    const p = provider();
    expect(await p.send(message(subscription))).toMatchObject({ kind: 'gone' });
    const unknown = { ...subscription, endpoint: `${peer.origin}/push/never-created` };
    expect(await p.send(message(unknown))).toMatchObject({ kind: 'gone' });
  });

  it('429 with Retry-After is a throttled retry after that many ms', async () => {
    const { subscription } = peer.subscribe();
    const p = provider();
    peer.throttleNext(1, '7');
    expect(await p.send(message(subscription))).toMatchObject({ kind: 'retry', throttled: true, afterMs: 7_000 });
    peer.throttleNext(1);
    const noHint = await p.send(message(subscription));
    expect(noHint).toMatchObject({ kind: 'retry', throttled: true });
    expect(noHint).not.toHaveProperty('afterMs');
  });

  it('500 is a retry (not throttled), and the next send goes through', async () => {
    const { subscription } = peer.subscribe();
    const p = provider();
    peer.failNext(1, 500);
    const outcome = await p.send(message(subscription));
    expect(outcome).toMatchObject({ kind: 'retry' });
    expect(outcome).not.toHaveProperty('throttled');
    expect((await p.send(message(subscription))).kind).toBe('sent');
  });

  it('413 is failed HTTP_413, 400 failed HTTP_400', async () => {
    const { subscription } = peer.subscribe();
    const p = provider();
    peer.failNext(1, 413);
    expect(await p.send(message(subscription))).toMatchObject({ kind: 'failed', code: 'HTTP_413' });
    peer.failNext(1, 400);
    expect(await p.send(message(subscription))).toMatchObject({ kind: 'failed', code: 'HTTP_400' });
  });

  it('a VAPID key other than the subscription\'s applicationServerKey is failed HTTP_403', async () => {
    const { id, subscription } = peer.subscribe({ applicationServerKey: vapid.publicKey });
    const other = provider(generateVapidKeys());
    expect(await other.send(message(subscription))).toMatchObject({ kind: 'failed', code: 'HTTP_403' });
    expect(peer.refused.findLast((r) => r.subscriptionId === id)).toMatchObject({ status: 403, reason: expect.stringContaining('applicationServerKey') });
    peer.rejectVapidNext(1);
    expect(await provider().send(message(subscription))).toMatchObject({ kind: 'failed', code: 'HTTP_403' });
  });

  it('an invalid subscription is failed without a request', async () => {
    const { subscription } = peer.subscribe();
    const before = peer.requestCount();
    const bad = { ...subscription, keys: { ...subscription.keys, auth: 'AAAA' } };
    expect(await provider().send(message(bad))).toMatchObject({ kind: 'failed', code: 'INVALID_SUBSCRIPTION' });
    expect(peer.requestCount()).toBe(before);
  });

  it('a push service that is down, too slow, or a send aborted by the caller is a retry', async () => {
    const down = await startPushPeer();
    const { subscription } = down.subscribe();
    await down.close();
    expect(await provider().send(message(subscription))).toMatchObject({ kind: 'retry', reason: expect.stringContaining('ECONNREFUSED') });

    const { subscription: slow } = peer.subscribe();
    peer.stallNext(1);
    const started = Date.now();
    expect(await provider(vapid, 300).send(message(slow))).toMatchObject({ kind: 'retry', reason: expect.stringContaining('timed out') });
    expect(Date.now() - started).toBeLessThan(3_000);

    peer.stallNext(1);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    expect(await provider().send(message(slow), ac.signal)).toMatchObject({ kind: 'retry', reason: 'send aborted' });
  });
});

describe('the push peer refuses what a push service refuses', () => {
  /** A VAPID Authorization header with a JWT of our own making. */
  async function forged(claims: Record<string, unknown>, signWithOtherKey = false): Promise<{ authorization: string; k: string }> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const k = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]).toString('base64url');
    const signer = signWithOtherKey ? (await generateKeyPair('ES256')).privateKey : privateKey;
    const t = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(signer);
    return { authorization: `vapid t=${t}, k=${k}`, k };
  }

  async function post(subscription: PushSubscriptionJson, authorization: string, body?: Buffer): Promise<number> {
    const res = await fetch(subscription.endpoint, { method: 'POST', headers: { authorization, ttl: '60', 'content-encoding': 'aes128gcm' }, body: body ?? Buffer.alloc(0) });
    await res.text();
    return res.status;
  }

  const now = () => Math.floor(Date.now() / 1000);

  it('JWTs with a bad signature, another audience, past or >24 h expiry, or no sub get 403', async () => {
    const { id, subscription } = peer.subscribe();
    const good = { aud: peer.origin, exp: now() + 3600, sub: SUBJECT };
    const cases: Array<[Record<string, unknown>, boolean, RegExp]> = [
      [good, true, /signature verification failed/],
      [{ ...good, aud: 'https://push.example' }, false, /"aud"/],
      [{ ...good, exp: now() - 60 }, false, /"exp"/],
      [{ ...good, exp: now() + 25 * 3600 }, false, /more than 24 h/],
      [{ aud: peer.origin, exp: now() + 3600 }, false, /"sub"/],
    ];
    for (const [claims, otherKey, reason] of cases) {
      const { authorization } = await forged(claims, otherKey);
      expect(await post(subscription, authorization), String(reason)).toBe(403);
      expect(peer.refused.findLast((r) => r.subscriptionId === id)!.reason).toMatch(reason);
    }
    // The same JWT made correctly passes VAPID (and then fails only at decrypting an empty body).
    expect(await post(subscription, (await forged(good)).authorization)).toBe(400);
    expect(peer.refused.findLast((r) => r.subscriptionId === id)!.reason).toMatch(/cannot decrypt/);
    expect(await post(subscription, '')).toBe(403);
  });

  it('a payload that does not decrypt (one ciphertext byte flipped) gets 400', async () => {
    const { id, subscription } = peer.subscribe();
    const details = webpush.generateRequestDetails(subscription, JSON.stringify({ title: 't', body: 'b', id: 'x' }), {
      vapidDetails: { subject: SUBJECT, ...vapid },
    });
    const body = Buffer.from(details.body!);
    body[body.length - 20]! ^= 0x01;
    expect(await post(subscription, String(details.headers.Authorization), body)).toBe(400);
    expect(peer.refused.findLast((r) => r.subscriptionId === id)!.reason).toMatch(/cannot decrypt/);
    // The untouched body of the same request is accepted: the check above is the decryption's.
    body[body.length - 20]! ^= 0x01;
    expect(await post(subscription, String(details.headers.Authorization), body)).toBe(201);
  });
});

describe('helpers', () => {
  it('pushTopic is deterministic, ≤ 32 base64url characters', () => {
    const t = pushTopic('0190f3a2-7c1e-7000-8000-000000000000:some.user@example:push');
    expect(t).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(pushTopic('a')).toBe(pushTopic('a'));
    expect(pushTopic('a')).not.toBe(pushTopic('b'));
  });

  it('isPushSubscription checks the endpoint scheme and the key sizes', () => {
    const { subscription } = peer.subscribe();
    const https = { ...subscription, endpoint: 'https://fcm.googleapis.com/fcm/send/abc' };
    expect(isPushSubscription(subscription)).toBe(false); // http on 127.0.0.1: private endpoints are off by default
    expect(isPushSubscription(subscription, true)).toBe(true);
    expect(isPushSubscription(https)).toBe(true);
    expect(isPushSubscription({ ...https, expirationTime: null })).toBe(true);
    expect(isPushSubscription({ ...https, endpoint: 'http://push.example/x' })).toBe(false);
    expect(isPushSubscription({ ...https, endpoint: 'http://push.example/x' }, true)).toBe(false);
    expect(isPushSubscription({ ...https, endpoint: 'http://localhost:9/x' }, true)).toBe(true);
    // No POSTs into Herald's own network: loopback, private, link-local, mapped and localhost names.
    for (const endpoint of ['https://localhost/x', 'https://api.localhost/x', 'https://127.0.0.1/x', 'https://10.0.0.1/x', 'https://172.20.1.1/x', 'https://192.168.1.10/x', 'https://169.254.169.254/latest', 'https://100.64.0.1/x', 'https://0.0.0.0/x', 'https://[::1]/x', 'https://[fd00::1]/x', 'https://[fe80::1]/x', 'https://[::ffff:127.0.0.1]/x']) {
      expect(isPushSubscription({ ...https, endpoint }), endpoint).toBe(false);
      expect(isPushSubscription({ ...https, endpoint }, true), endpoint).toBe(true);
    }
    expect(isPushSubscription({ ...https, endpoint: 'https://8.8.8.8/x' })).toBe(true);
    expect(isPushSubscription({ ...https, endpoint: 'https://[2001:db8::1]/x' })).toBe(true);
    expect(isPushSubscription({ ...https, endpoint: 'ftp://push.example/x' })).toBe(false);
    expect(isPushSubscription({ ...https, endpoint: 'not a url' })).toBe(false);
    expect(isPushSubscription({ ...https, keys: { ...https.keys, p256dh: https.keys.p256dh.slice(0, 40) } })).toBe(false);
    expect(isPushSubscription({ ...https, keys: { ...https.keys, auth: `${https.keys.auth}==` } })).toBe(false);
    expect(isPushSubscription({ ...https, keys: { ...https.keys, auth: Buffer.alloc(15).toString('base64url') } })).toBe(false);
    expect(isPushSubscription({ endpoint: https.endpoint })).toBe(false);
    expect(isPushSubscription(null)).toBe(false);
    expect(isPushSubscription('x')).toBe(false);
  });

  it('parseRetryAfterMs reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(parseRetryAfterMs('30', now)).toBe(30_000);
    expect(parseRetryAfterMs('Sun, 29 Nov 2026 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });

  it('createWebPushProvider refuses a bad subject or key at once', () => {
    expect(() => createWebPushProvider({ subject: 'http://herald.example', ...vapid })).toThrow(/subject/);
    expect(() => createWebPushProvider({ subject: SUBJECT, publicKey: 'abc', privateKey: vapid.privateKey })).toThrow(/public key/);
  });
});
