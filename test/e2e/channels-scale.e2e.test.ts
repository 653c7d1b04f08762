/**
 * The channels scenario of issue 6 on a real Herald (embedded profile, channel stages in
 * process): 1,500 users subscribed to one topic, each with an email address and a phone number;
 * one publish asks for email and SMS. Both providers allow 10 requests per sliding second and
 * refuse above it (SMTP 421, HTTP 429 with Retry-After), and the SMS provider also throttles a few
 * requests with `Retry-After: 2` at the start.
 *
 * Proves: every user gets exactly one mail and one SMS; the workers stay within the providers'
 * limits (the peers refused almost nothing), and after a 429 with Retry-After no request reaches
 * the provider until it elapsed; meanwhile SSE delivery to the same users is not held up: the
 * notification, and a later in-app publish made while the channels are still sending, reach every
 * open stream within seconds, long before the ~150 s the channels need.
 *
 * In `npm test` (no servers needed): it mostly waits for the providers' pace, so it runs beside
 * the other files instead of lengthening the sequential integration suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { startInProcess } from '../helpers/herald.ts';
import { api, waitFor } from '../helpers/http.ts';
import { startSmsPeer, type SmsPeer } from '../helpers/sms-peer.ts';
import { startSmtpPeer, type SmtpPeer } from '../helpers/smtp-peer.ts';
import { openStream, type StreamCollector } from '../helpers/sse-client.ts';

const USERS = 1_500;
const RATE = 10; // requests per second at each provider
const STREAMS = 150; // users with an open SSE stream (every 10th)
const user = (i: number) => `scale-${String(i).padStart(4, '0')}`;
const phone = (i: number) => `+1415556${String(i).padStart(4, '0')}`;

/** Most arrivals within any sliding second. */
function peakPerSecond(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= 1_000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

describe(`channels at scale: ${USERS} users, email and SMS at ${RATE}/s with refusals above it`, () => {
  let app: HeraldApp;
  let url: string;
  let smtp: SmtpPeer;
  let sms: SmsPeer;
  const streams: StreamCollector[] = [];

  beforeAll(async () => {
    [smtp, sms] = await Promise.all([startSmtpPeer(), startSmsPeer()]);
    smtp.setRateLimit(RATE);
    sms.setRateLimit(RATE, 1);
    ({ app, url } = await startInProcess({
      HERALD_LOG_LEVEL: 'warn',
      HERALD_SMTP_URL: smtp.url,
      HERALD_EMAIL_RATE_PER_SEC: String(RATE),
      HERALD_SMS_URL: sms.url,
      HERALD_SMS_TOKEN: sms.token,
      HERALD_SMS_RATE_PER_SEC: String(RATE),
    }));
    for (let i = 0; i < USERS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, USERS - i) }, async (_, k) => {
          const n = i + k;
          expect((await api(url, 'PUT', `/users/${user(n)}/channels`, { email: `${user(n)}@example.com`, phone: phone(n) })).status).toBe(200);
          expect((await api(url, 'POST', '/subscribe', { topic_id: 'launch', user_id: user(n) })).status).toBe(200);
        }),
      );
    }
    for (let n = 0; n < USERS; n += USERS / STREAMS) {
      const s = openStream(url, user(n));
      streams.push(s);
    }
    await Promise.all(streams.map((s) => s.opened));
  }, 120_000);

  afterAll(async () => {
    for (const s of streams) s.close();
    await app?.close();
    await Promise.all([smtp?.close(), sms?.stop()]);
  });

  it('one mail and one SMS per user within the limits, Retry-After honoured, SSE not held up', async () => {
    sms.throttleNext(3, '2');
    const started = Date.now();
    const pub = await api(url, 'POST', '/publish', { topic_id: 'launch', message: { title: 'We launched', body: 'Come and see' }, channels: ['email', 'sms'] });
    expect(pub.status).toBe(202);
    const id = pub.body.id as string;

    // SSE: every open stream has it within seconds, while the channels have barely started.
    await waitFor(() => streams.every((s) => s.ids().includes(id)), 15_000, 'the notification on every stream');
    const sseMs = Date.now() - started;
    const mailsThen = smtp.received.length;
    expect(mailsThen).toBeLessThan(USERS / 4);

    // An in-app publish made while the channels are busy is not queued behind them.
    await waitFor(() => smtp.received.length >= 300, 60_000, '300 mails');
    const later = Date.now();
    const inApp = (await api(url, 'POST', '/publish', { topic_id: 'launch', message: 'in-app only' })).body.id as string;
    await waitFor(() => streams.every((s) => s.ids().includes(inApp)), 15_000, 'the in-app publish on every stream');
    const laterSseMs = Date.now() - later;
    expect(smtp.received.length).toBeLessThan(USERS);

    await waitFor(() => smtp.received.length >= USERS && sms.messages.length >= USERS, 400_000, `${USERS} mails and SMS`, 250);
    const doneMs = Date.now() - started;
    // Nothing more arrives: exactly one each.
    await new Promise((r) => setTimeout(r, 3_000));
    const mailsTo = new Map<string, number>();
    for (const m of smtp.received) for (const to of m.to) mailsTo.set(to, (mailsTo.get(to) ?? 0) + 1);
    expect(mailsTo.size).toBe(USERS);
    expect([...mailsTo.values()].every((c) => c === 1)).toBe(true);
    const smsTo = new Map<string, number>();
    for (const m of sms.messages) smsTo.set(m.to, (smsTo.get(m.to) ?? 0) + 1);
    expect(smsTo.size).toBe(USERS);
    expect([...smsTo.values()].every((c) => c === 1)).toBe(true);

    // Within the providers' limits: what they accepted never exceeded RATE in a sliding second,
    // and they had to refuse little (the workers pace themselves; refusals are retried).
    expect(peakPerSecond(smtp.received.map((m) => m.at))).toBeLessThanOrEqual(RATE);
    expect(peakPerSecond(sms.messages.map((m) => m.at))).toBeLessThanOrEqual(RATE);
    const smsRateRefusals = sms.requests.filter((r) => r.status === 429).length - 3;
    expect(smtp.rateLimited).toBeLessThan(USERS * 0.05);
    expect(smsRateRefusals).toBeLessThan(USERS * 0.05);

    // Retry-After: 2 on the scripted 429s: no new request reached the provider in the pause. The
    // first window's RATE requests were all in flight before any answer came back (batches of
    // several partitions send at once), and a loaded event loop may handle them at the peer well
    // after the first 429; every later request waited for the pause.
    const firstThrottle = sms.requests.find((r) => r.status === 429)!;
    expect(sms.requests.slice(0, 3).map((r) => r.status)).toEqual([429, 429, 429]);
    const inPause = sms.requests.slice(RATE).filter((r) => r.at < firstThrottle.at + 1_900);
    expect(inPause).toEqual([]);

    // Statuses: every user's two sends are recorded as sent.
    for (const n of [0, 777, USERS - 1]) {
      const d = await api(url, 'GET', `/notifications/${id}/deliveries?user_id=${user(n)}`);
      expect(d.body.deliveries.map((x: { channel: string; state: string }) => `${x.channel}:${x.state}`)).toEqual(['email:sent', 'sms:sent']);
    }
    console.log(
      `[channels-scale] ${USERS} users: SSE on ${STREAMS} streams after ${sseMs} ms (mails sent by then: ${mailsThen}); in-app publish mid-send on every stream after ${laterSseMs} ms; ` +
        `${USERS} mails + ${USERS} SMS in ${(doneMs / 1000).toFixed(1)} s; peaks ${peakPerSecond(smtp.received.map((m) => m.at))}/s and ${peakPerSecond(sms.messages.map((m) => m.at))}/s; ` +
        `refused: smtp 421 × ${smtp.rateLimited}, sms 429 × ${smsRateRefusals} (+3 scripted)`,
    );
  }, 600_000);
});
