/**
 * The HTTP SMS provider against a real local SMS provider peer (test/helpers/sms-peer.ts) over
 * loopback: every answer the provider can get is classified as the channel contract says
 * (sent / retry with Retry-After and throttled / failed with HTTP_<status>), the auth and
 * Idempotency-Key headers arrive, and a resend with the same key is not a second SMS.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelProvider, SmsMessage } from '../../../sinks/channels/types.ts';
import { classifySmsResponse, createHttpSmsProvider, isE164, parseRetryAfter, type HttpSmsProviderOptions } from '../../../sinks/channels/sms/http-sms-provider.ts';
import { startSmsPeer, type SmsPeer } from '../../helpers/sms-peer.ts';

const FROM = '+14155550100';
const msg = (n: number, over: Partial<SmsMessage> = {}): SmsMessage => ({ key: `01a227ec-a92a-7000-8000-00000000000${n}:user-${n}:sms`, to: `+1415555${String(1000 + n)}`, text: `hello ${n}`, ...over });

describe('isE164 and parseRetryAfter', () => {
  it('accepts E.164 numbers only', () => {
    for (const ok of ['+14155550123', '+4915112345678', '+1234567', '+123456789012345']) expect(isE164(ok), ok).toBe(true);
    for (const bad of ['14155550123', '+0155550123', '+123456', '+1234567890123456', '+1 415 555 0123', '+1-415-555-0123', '', '+', '+1415555012a']) expect(isE164(bad), bad).toBe(false);
  });

  it('parses delta-seconds and the three HTTP-date forms; unparsable → undefined, past → 0', () => {
    const now = Date.parse('1994-11-06T08:49:30Z');
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(7_000);
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(7_000);
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', now)).toBe(7_000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:00 GMT', now)).toBe(0);
    for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '2026-11-29T15:00:00Z', 'Sun, 06 Nov 1994 08:49:37']) expect(parseRetryAfter(bad, now), String(bad)).toBeUndefined();
  });

  it('classifies answers without a peer: 409 is sent, 408 retries, 3xx fails, reasons are cut to 500 chars', () => {
    expect(classifySmsResponse(409, null, '{"id":"SM1","error":{"message":"idempotency key already used"}}', 0)).toEqual({ kind: 'sent', providerId: 'SM1' });
    expect(classifySmsResponse(408, null, '', 0)).toEqual({ kind: 'retry', reason: 'HTTP 408' });
    expect(classifySmsResponse(302, null, '', 0)).toEqual({ kind: 'failed', code: 'HTTP_302', reason: 'HTTP 302' });
    const long = classifySmsResponse(400, null, JSON.stringify({ message: 'x'.repeat(2_000) }), 0);
    expect(long.kind === 'failed' && long.reason.length).toBe(500);
  });
});

describe('http-sms provider against a local SMS provider peer', () => {
  let peer: SmsPeer;
  const providers: ChannelProvider<SmsMessage>[] = [];
  const provider = (over: Partial<HttpSmsProviderOptions> = {}): ChannelProvider<SmsMessage> => {
    const p = createHttpSmsProvider({ baseUrl: peer.url, apiToken: peer.token, from: FROM, requestTimeoutMs: 2_000, ...over });
    providers.push(p);
    return p;
  };

  beforeEach(async () => {
    peer = await startSmsPeer();
  });
  afterEach(async () => {
    for (const p of providers.splice(0)) await p.close();
    await peer.stop();
  });

  it('sends: 201 → sent with the provider id; auth, Idempotency-Key and the JSON body arrive', async () => {
    const sms = provider();
    expect(sms.channel).toBe('sms');
    expect(sms.name).toBe('http-sms');
    const out = await sms.send(msg(1));
    expect(out).toEqual({ kind: 'sent', providerId: peer.messages[0]!.id });
    expect(peer.messages).toHaveLength(1);
    expect(peer.messages[0]).toMatchObject({ to: msg(1).to, from: FROM, text: 'hello 1', idempotencyKey: msg(1).key });
    const req = peer.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/messages');
    expect(req.headers.authorization).toBe(`Bearer ${peer.token}`);
    expect(req.headers['idempotency-key']).toBe(msg(1).key);
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ to: msg(1).to, from: FROM, text: 'hello 1' });
  });

  it('a resend with the same key is not a second SMS: the replay (or a 409) reports sent', async () => {
    const sms = provider();
    const first = await sms.send(msg(2));
    const again = await sms.send(msg(2));
    expect(again).toEqual(first);
    expect(peer.requests).toHaveLength(2);
    expect(peer.messages).toHaveLength(1);

    peer.replayAs409 = true;
    expect(await sms.send(msg(2))).toEqual(first);
    expect(peer.requests.at(-1)!.status).toBe(409);
    expect(peer.messages).toHaveLength(1);

    // The same key with another text is a bug in the key: a permanent failure, never a silent drop.
    const reused = await sms.send(msg(2, { text: 'something else' }));
    expect(reused).toMatchObject({ kind: 'failed', code: 'HTTP_422' });
    expect(peer.messages).toHaveLength(1);
  });

  it('a timeout is a retry, and the retry after it does not send twice (the peer had accepted it)', async () => {
    const sms = provider({ requestTimeoutMs: 200 });
    peer.delayNext(1, 1_000);
    const t0 = Date.now();
    const out = await sms.send(msg(3));
    expect(Date.now() - t0).toBeLessThan(900);
    expect(out).toEqual({ kind: 'retry', reason: 'timed out after 200 ms' });
    expect(peer.messages).toHaveLength(1); // accepted before the answer was lost
    const again = await sms.send(msg(3));
    expect(again).toEqual({ kind: 'sent', providerId: peer.messages[0]!.id });
    expect(peer.messages).toHaveLength(1);
  });

  it('429 with Retry-After: 2 → retry, throttled, afterMs 2000; without Retry-After → no afterMs; then sent', async () => {
    const sms = provider();
    peer.throttleNext(1, '2');
    expect(await sms.send(msg(4))).toEqual({ kind: 'retry', reason: 'HTTP 429: too many requests', afterMs: 2_000, throttled: true });
    peer.throttleNext(1, null);
    expect(await sms.send(msg(4))).toEqual({ kind: 'retry', reason: 'HTTP 429: too many requests', throttled: true });
    expect(peer.messages).toHaveLength(0);
    expect(await sms.send(msg(4))).toMatchObject({ kind: 'sent' });
    expect(peer.messages).toHaveLength(1);
  });

  it('429 with an HTTP-date Retry-After → afterMs until that date', async () => {
    const now = Date.parse('2026-11-29T15:00:00.000Z');
    const sms = provider({ now: () => now });
    peer.throttleNext(1, 'Sun, 29 Nov 2026 15:00:05 GMT');
    expect(await sms.send(msg(5))).toMatchObject({ kind: 'retry', afterMs: 5_000, throttled: true });
    // With the real clock: a date 10 s ahead (second resolution) is 9–10 s away.
    const real = provider();
    peer.throttleNext(1, new Date(Date.now() + 10_000).toUTCString());
    const out = await real.send(msg(5));
    expect(out.kind === 'retry' && out.afterMs).toBeGreaterThanOrEqual(8_500);
    expect(out.kind === 'retry' && out.afterMs).toBeLessThanOrEqual(10_000);
  });

  it('over the peer rate limit → 429 throttled with its Retry-After, never failed', async () => {
    const sms = provider();
    peer.setRateLimit(3, 1);
    const outs = await Promise.all([1, 2, 3, 4, 5].map((n) => sms.send(msg(n))));
    expect(outs.filter((o) => o.kind === 'sent')).toHaveLength(3);
    expect(outs.filter((o) => o.kind === 'retry')).toEqual([
      { kind: 'retry', reason: 'HTTP 429: more than 3 requests per second', afterMs: 1_000, throttled: true },
      { kind: 'retry', reason: 'HTTP 429: more than 3 requests per second', afterMs: 1_000, throttled: true },
    ]);
    expect(peer.messages).toHaveLength(3);
  });

  it('503 (with or without Retry-After), 500 and a down window → retry, not throttled', async () => {
    const sms = provider();
    peer.failNext(1, 503);
    expect(await sms.send(msg(6))).toEqual({ kind: 'retry', reason: 'HTTP 503: scripted failure' });
    peer.failNext(1, 503, '7');
    expect(await sms.send(msg(6))).toEqual({ kind: 'retry', reason: 'HTTP 503: scripted failure', afterMs: 7_000 });
    peer.failNext(1, 500);
    expect(await sms.send(msg(6))).toEqual({ kind: 'retry', reason: 'HTTP 500: scripted failure' });
    peer.downFor(300);
    expect(await sms.send(msg(6))).toEqual({ kind: 'retry', reason: 'HTTP 503: down for maintenance' });
    expect(peer.messages).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 350));
    expect(await sms.send(msg(6))).toMatchObject({ kind: 'sent' });
    expect(peer.messages).toHaveLength(1);
  });

  it('connection refused (peer stopped) → retry', async () => {
    const sms = provider();
    await peer.stop();
    const out = await sms.send(msg(7));
    expect(out).toEqual({ kind: 'retry', reason: 'network error: ECONNREFUSED' });
    peer = await startSmsPeer(); // for afterEach
  });

  it('400 → failed HTTP_400 with the provider message; 401 (wrong token: our configuration) → retry naming the setting', async () => {
    const sms = provider();
    peer.rejectNumber(msg(8).to, 'number is not mobile');
    expect(await sms.send(msg(8))).toEqual({ kind: 'failed', code: 'HTTP_400', reason: 'number is not mobile' });
    const wrong = provider({ apiToken: 'not-the-token' });
    expect(await wrong.send(msg(9))).toEqual({ kind: 'retry', reason: 'HTTP 401: the provider refused HERALD_SMS_TOKEN (invalid or missing API token); fix the token, sends are retried' });
    expect(peer.messages).toHaveLength(0);
  });

  it('a number that is not E.164 → failed INVALID_E164 without a request', async () => {
    const sms = provider();
    for (const to of ['4155550123', '+1 415 555 0123', '']) {
      expect(await sms.send(msg(1, { to }))).toMatchObject({ kind: 'failed', code: 'INVALID_E164' });
    }
    expect(peer.requests).toHaveLength(0);
  });

  it("the caller's abort and close() → retry; send after close rejects; bad options throw", async () => {
    const sms = provider();
    peer.delayNext(2, 1_000);
    const ac = new AbortController();
    const aborted = sms.send(msg(1), ac.signal);
    setTimeout(() => ac.abort(), 50);
    expect(await aborted).toEqual({ kind: 'retry', reason: 'aborted by the caller' });
    const inFlight = sms.send(msg(2));
    setTimeout(() => void sms.close(), 50);
    expect(await inFlight).toEqual({ kind: 'retry', reason: 'provider closed' });
    await expect(sms.send(msg(3))).rejects.toThrow(/after close/);

    expect(() => createHttpSmsProvider({ baseUrl: 'http://sms.example.com', apiToken: 't', from: FROM })).toThrow(/https/);
    expect(() => createHttpSmsProvider({ baseUrl: 'not a url', apiToken: 't', from: FROM })).toThrow(/not a URL/);
    expect(() => createHttpSmsProvider({ baseUrl: 'https://sms.example.com', apiToken: '', from: FROM })).toThrow(/apiToken/);
    expect(() => createHttpSmsProvider({ baseUrl: 'https://sms.example.com', apiToken: 't', from: 'a sender id too long' })).toThrow(/from/);
    expect(createHttpSmsProvider({ baseUrl: 'https://sms.example.com', apiToken: 't', from: 'Herald' }).name).toBe('http-sms');
  });
});
