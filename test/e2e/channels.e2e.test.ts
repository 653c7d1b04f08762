/**
 * Email, SMS and Web Push end to end on a real Herald (embedded profile, channel stages in
 * process) against real protocol peers: an SMTP server that parses every mail, an HTTP SMS
 * provider, and a push service that verifies the VAPID JWT and decrypts the payload.
 *
 * Proves: a publish with channels reaches each user's addresses exactly once, alongside in-app
 * delivery; preferences mute a channel unless the notification is critical; a user without an
 * address is skipped; the per-channel status is queryable; a provider that is down is retried
 * until it recovers with no duplicates; a permanent refusal ends in herald.channel.dlq with the
 * reason; an expired push subscription (410) is removed from the user's settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { generateVapidKeys } from '../../sinks/channels/push/web-push-provider.ts';
import { messageIdFor } from '../../sinks/channels/email/smtp-provider.ts';
import { startInProcess } from '../helpers/herald.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { startPushPeer, type PushPeer } from '../helpers/push-peer.ts';
import { startSmsPeer, type SmsPeer } from '../helpers/sms-peer.ts';
import { startSmtpPeer, type SmtpPeer } from '../helpers/smtp-peer.ts';

interface Delivery {
  channel: string;
  state: string;
  attempts: number;
  last_error?: string;
}

describe('channels: email, SMS and push end to end (embedded)', () => {
  let app: HeraldApp;
  let url: string;
  let smtp: SmtpPeer;
  let sms: SmsPeer;
  let push: PushPeer;
  const vapid = generateVapidKeys();

  beforeAll(async () => {
    [smtp, sms, push] = await Promise.all([startSmtpPeer(), startSmsPeer(), startPushPeer()]);
    ({ app, url } = await startInProcess({
      HERALD_LOG_LEVEL: 'warn',
      HERALD_SMTP_URL: smtp.url,
      HERALD_EMAIL_FROM: 'alerts@herald.example',
      HERALD_EMAIL_RATE_PER_SEC: '200',
      HERALD_SMS_URL: sms.url,
      HERALD_SMS_TOKEN: sms.token,
      HERALD_SMS_RATE_PER_SEC: '200',
      HERALD_VAPID_PUBLIC_KEY: vapid.publicKey,
      HERALD_VAPID_PRIVATE_KEY: vapid.privateKey,
      HERALD_VAPID_SUBJECT: 'mailto:ops@herald.example',
      // The local push service listens on http://127.0.0.1.
      HERALD_PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true',
    }));
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([smtp?.close(), sms?.stop(), push?.close()]);
  });

  const deliveries = async (id: string, user: string): Promise<Delivery[]> => {
    const r = await api(url, 'GET', `/notifications/${id}/deliveries?user_id=${user}`);
    expect(r.status).toBe(200);
    return r.body.deliveries as Delivery[];
  };
  const stateOf = async (id: string, user: string, channel: string) => (await deliveries(id, user)).find((d) => d.channel === channel)?.state;

  it('reaches every channel of every subscriber once, and the inbox too', async () => {
    const users = ['ch-ada', 'ch-bob', 'ch-cy'];
    const subs = new Map<string, ReturnType<PushPeer['subscribe']>>();
    for (const [i, u] of users.entries()) {
      const s = push.subscribe({ applicationServerKey: vapid.publicKey });
      subs.set(u, s);
      expect((await api(url, 'PUT', `/users/${u}/channels`, { email: `${u}@example.com`, phone: `+1415555010${i}`, push: [s.subscription] })).status).toBe(200);
      expect((await api(url, 'POST', '/subscribe', { topic_id: 'orders', user_id: u })).status).toBe(200);
    }
    const pub = await api(url, 'POST', '/publish', {
      topic_id: 'orders',
      message: { title: 'Order shipped', body: 'Parcel 42 left the warehouse' },
      channels: ['email', 'sms', 'push'],
      content: { email: { subject: 'Your order shipped', text: 'Parcel 42 is on its way.', html: '<p>Parcel <b>42</b> is on its way.</p>' }, push: { title: 'Shipped', body: 'Parcel 42', url: 'https://shop.example/orders/42' } },
    });
    expect(pub.status).toBe(202);
    const id = pub.body.id as string;

    await smtp.waitForMails(3, 20_000);
    await waitFor(() => sms.messages.length >= 3 && push.received.length >= 3, 20_000, 'sms and push');
    for (const u of users) {
      const mails = smtp.received.filter((m) => m.to.includes(`${u}@example.com`));
      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatchObject({ subject: 'Your order shipped', text: 'Parcel 42 is on its way.', html: '<p>Parcel <b>42</b> is on its way.</p>', from: ['alerts@herald.example'] });
      // The Message-ID derives from the send key: a resend is recognisable as the same mail.
      expect(mails[0]!.messageId).toBe(messageIdFor(`${id}:${u}:email`));
      const texts = sms.messages.filter((m) => m.to === `+1415555010${users.indexOf(u)}`);
      expect(texts.map((t) => t.text)).toEqual(['Order shipped: Parcel 42 left the warehouse']);
      const pushes = push.received.filter((p) => p.subscriptionId === subs.get(u)!.id);
      expect(pushes.map((p) => p.payload)).toEqual([{ id, title: 'Shipped', body: 'Parcel 42', url: 'https://shop.example/orders/42' }]);
      expect(pushes[0]!.vapid.sub).toBe('mailto:ops@herald.example');
      // In-app delivery is independent of the channels.
      await waitFor(async () => (await fetchAll(url, u)).some((n) => n.id === id), 10_000, `inbox of ${u}`);
      await waitFor(async () => (await deliveries(id, u)).filter((d) => d.state === 'sent').length === 3, 10_000, `statuses of ${u}`);
      expect((await deliveries(id, u)).map((d) => [d.channel, d.state, d.attempts])).toEqual([
        ['email', 'sent', 1],
        ['push', 'sent', 1],
        ['sms', 'sent', 1],
      ]);
    }
  });

  it('preferences mute a channel unless critical; a user without an address is skipped', async () => {
    await api(url, 'PUT', '/users/mute-me/channels', { email: 'mute-me@example.com' });
    await api(url, 'PUT', '/users/mute-me/preferences', { channels: { email: false } });
    await api(url, 'PUT', '/users/no-address/channels', {});
    for (const u of ['mute-me', 'no-address']) await api(url, 'POST', '/subscribe', { topic_id: 'alerts', user_id: u });
    const bulk = (await api(url, 'POST', '/publish', { topic_id: 'alerts', message: 'bulk news', channels: ['email'] })).body.id as string;
    const critical = (await api(url, 'POST', '/publish', { topic_id: 'alerts', message: 'password changed', channels: ['email'], critical: true })).body.id as string;

    await waitFor(async () => (await stateOf(critical, 'mute-me', 'email')) === 'sent', 15_000, 'critical mail sent');
    await waitFor(async () => (await stateOf(bulk, 'mute-me', 'email')) === 'skipped', 15_000, 'bulk mail skipped');
    const mails = smtp.received.filter((m) => m.to.includes('mute-me@example.com'));
    expect(mails.map((m) => m.text?.trim())).toEqual(['password changed']);
    expect((await deliveries(bulk, 'mute-me'))[0]).toMatchObject({ state: 'skipped', attempts: 0, last_error: expect.stringMatching(/muted email/) });
    await waitFor(async () => (await stateOf(critical, 'no-address', 'email')) === 'skipped', 15_000, 'no address skipped');
    expect((await deliveries(critical, 'no-address'))[0]!.last_error).toMatch(/no email address/);
  });

  it('a topic marked critical overrides the mute too', async () => {
    expect((await api(url, 'PUT', '/topics/security/settings', { critical: true })).status).toBe(200);
    await api(url, 'POST', '/subscribe', { topic_id: 'security', user_id: 'mute-me' });
    const id = (await api(url, 'POST', '/publish', { topic_id: 'security', message: 'new login', channels: ['email'] })).body.id as string;
    await waitFor(async () => (await stateOf(id, 'mute-me', 'email')) === 'sent', 15_000, 'critical-topic mail sent');
  });

  it('renders a stored template, escaping HTML in the email body only', async () => {
    const put = await api(url, 'PUT', '/templates/welcome', {
      email: { subject: 'Welcome, {{name}}!', text: 'Hi {{name}}, welcome to {{topic_id}}.', html: '<p>Hi {{name}}</p>' },
      sms: { text: 'Welcome {{name}}' },
    });
    expect(put.status).toBe(200);
    await api(url, 'PUT', '/users/tpl-user/channels', { email: 'tpl-user@example.com', phone: '+14155550199' });
    await api(url, 'POST', '/subscribe', { topic_id: 'onboarding', user_id: 'tpl-user' });
    const pub = await api(url, 'POST', '/publish', { topic_id: 'onboarding', message: 'welcome', channels: ['email', 'sms'], template_id: 'welcome', data: { name: 'Ada <Lovelace> & co' } });
    expect(pub.status).toBe(202);
    await waitFor(() => smtp.received.some((m) => m.to.includes('tpl-user@example.com')) && sms.messages.some((m) => m.to === '+14155550199'), 15_000, 'templated sends');
    const mail = smtp.received.find((m) => m.to.includes('tpl-user@example.com'))!;
    expect(mail.subject).toBe('Welcome, Ada <Lovelace> & co!');
    expect(mail.text?.trim()).toBe('Hi Ada <Lovelace> & co, welcome to onboarding.');
    expect(mail.html).toBe('<p>Hi Ada &lt;Lovelace&gt; &amp; co</p>');
    expect(sms.messages.find((m) => m.to === '+14155550199')!.text).toBe('Welcome Ada <Lovelace> & co');

    // Refused at publish time, nothing accepted: unknown template, missing variable, content for a channel not asked.
    expect((await api(url, 'POST', '/publish', { topic_id: 'onboarding', message: 'x', channels: ['email'], template_id: 'nope' })).body.error.code).toBe('HERALD_EDGE_TEMPLATE_NOT_FOUND');
    expect((await api(url, 'POST', '/publish', { topic_id: 'onboarding', message: 'x', channels: ['email'], template_id: 'welcome', data: {} })).body.error.code).toBe('HERALD_EDGE_TEMPLATE_RENDER_FAILED');
    expect((await api(url, 'POST', '/publish', { topic_id: 'onboarding', message: 'x', channels: ['sms'], content: { email: { subject: 's', text: 't' } } })).body.error.code).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect((await api(url, 'POST', '/publish', { topic_id: 'onboarding', message: 'x', channels: ['fax'] })).body.error.code).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect((await api(url, 'POST', '/publish', { topic_id: 'onboarding', message: 'x', content: { sms: { text: 't' } } })).body.error.code).toBe('HERALD_EDGE_CHANNELS_INVALID');
  });

  it('a critical notification overtakes a bulk backlog on the same provider (critical lane)', async () => {
    // 600 bulk mails at the 200/s budget take ~3 s; the critical one is published right after.
    const bulkUsers = Array.from({ length: 600 }, (_, i) => `bulk-${i}`);
    for (let i = 0; i < bulkUsers.length; i += 100) {
      await Promise.all(
        bulkUsers.slice(i, i + 100).map(async (u) => {
          await api(url, 'PUT', `/users/${u}/channels`, { email: `${u}@example.com` });
          await api(url, 'POST', '/subscribe', { topic_id: 'digest', user_id: u });
        }),
      );
    }
    await api(url, 'PUT', '/users/vip/channels', { email: 'vip@example.com' });
    await api(url, 'POST', '/subscribe', { topic_id: 'account', user_id: 'vip' });
    const before = smtp.received.length;
    expect((await api(url, 'POST', '/publish', { topic_id: 'digest', message: 'weekly digest', channels: ['email'] })).status).toBe(202);
    await waitFor(() => smtp.received.length > before, 10_000, 'bulk mails started');
    expect((await api(url, 'POST', '/publish', { topic_id: 'account', message: 'your password was changed', channels: ['email'], critical: true })).status).toBe(202);
    await waitFor(() => smtp.received.some((m) => m.to.includes('vip@example.com')), 15_000, 'critical mail');
    const bulkBefore = smtp.received.slice(before).findIndex((m) => m.to.includes('vip@example.com'));
    expect(bulkBefore).toBeLessThan(bulkUsers.length / 2);
    await waitFor(() => smtp.received.length >= before + bulkUsers.length + 1, 30_000, 'every bulk mail');
  });

  it('a provider down for a while: retried until it recovers, then sent once', async () => {
    await api(url, 'PUT', '/users/retry-user/channels', { phone: '+14155550177' });
    await api(url, 'POST', '/subscribe', { topic_id: 'retries', user_id: 'retry-user' });
    sms.downFor(2_500, 503);
    const id = (await api(url, 'POST', '/publish', { topic_id: 'retries', message: 'eventually', channels: ['sms'] })).body.id as string;
    await waitFor(async () => (await stateOf(id, 'retry-user', 'sms')) === 'retrying', 10_000, 'retrying');
    await waitFor(async () => (await stateOf(id, 'retry-user', 'sms')) === 'sent', 30_000, 'sent after recovery');
    const d = (await deliveries(id, 'retry-user')).find((x) => x.channel === 'sms')!;
    expect(d.attempts).toBeGreaterThan(1);
    expect(sms.messages.filter((m) => m.to === '+14155550177')).toHaveLength(1);
    expect(sms.requests.filter((r) => r.body.includes('+14155550177') && r.status === 503).length).toBe(d.attempts - 1);
  });

  it('a permanent refusal ends in the DLQ with the reason; an expired push subscription is removed', async () => {
    await api(url, 'PUT', '/users/bad-number/channels', { phone: '+14155550166' });
    sms.rejectNumber('+14155550166', 'number is not reachable');
    const gone = push.subscribe({ applicationServerKey: vapid.publicKey });
    await api(url, 'PUT', '/users/gone-user/channels', { push: [gone.subscription] });
    push.expire(gone.id);
    for (const u of ['bad-number', 'gone-user']) await api(url, 'POST', '/subscribe', { topic_id: 'failures', user_id: u });
    const id = (await api(url, 'POST', '/publish', { topic_id: 'failures', message: 'doomed', channels: ['sms', 'push'] })).body.id as string;

    await waitFor(async () => (await stateOf(id, 'bad-number', 'sms')) === 'failed', 15_000, 'sms failed');
    expect((await deliveries(id, 'bad-number')).find((d) => d.channel === 'sms')!.last_error).toMatch(/not reachable/);
    await waitFor(async () => (await stateOf(id, 'gone-user', 'push')) === 'gone', 15_000, 'push gone');
    await waitFor(async () => (await api(url, 'GET', '/users/gone-user/channels')).body.push.length === 0, 5_000, 'subscription removed');

    // The DLQ record: the job and the provider's reason.
    const letters: { error: { code: string; message: string }; value: string; stage: string }[] = [];
    await waitFor(async () => {
      letters.length = 0;
      await app.profile.transport.readToEnd('herald.channel.dlq', 0, (batch) => {
        for (const r of batch.records()) letters.push(JSON.parse(Buffer.from(r.value).toString('utf8')));
      });
      return letters.some((l) => JSON.parse(l.value).notification_id === id);
    }, 10_000, 'dead letter');
    const letter = letters.find((l) => JSON.parse(l.value).notification_id === id)!;
    expect(letter.stage).toBe('sms');
    expect(letter.error.code).toBe('HTTP_400');
    expect(letter.error.message).toMatch(/not reachable/);
    expect(JSON.parse(letter.value)).toMatchObject({ key: `${id}:bad-number:sms`, user_id: 'bad-number', channel: 'sms', attempt: 1 });
  });
});
