/**
 * GET /notifications/{notification_id}/deliveries end to end on a real Herald (embedded profile):
 * statuses recorded straight into the profile's store (`app.profile.deliveryStatuses`, SQLite
 * `delivery-status.db`) come back per channel in order, only the asked user's; an in-app-only or
 * unknown notification is `deliveries: []`; bad input is 400 with its code; then with auth on,
 * the user's own token or a publisher key may read, another user's token may not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import type { DeliveryStatus } from '../../stores/types.ts';
import { useHerald } from '../helpers/herald.ts';
import { AUTH_ENV, PUBLISHER, userToken } from '../helpers/auth.ts';
import { api } from '../helpers/http.ts';

const N1 = '0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9e';
const N2 = '0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9f';
const T0 = Date.UTC(2026, 10, 29, 15, 0, 0, 123);

const status = (over: Partial<DeliveryStatus> & Pick<DeliveryStatus, 'notification_id' | 'user_id' | 'channel'>): DeliveryStatus => ({
  key: `${over.notification_id}:${over.user_id}:${over.channel}`,
  state: 'sent',
  attempts: 1,
  updated_at: T0,
  ...over,
});

const deliveriesPath = (id: string, query: string) => `/notifications/${id}/deliveries${query}`;

describe('GET /notifications/{id}/deliveries (auth off)', () => {
  let app: HeraldApp;
  let url: string;
  let dataDir: string;
  useHerald({}, async (started) => {
    ({ app, url, dataDir } = started);
    await app.profile.deliveryStatuses.record([
      status({ notification_id: N1, user_id: 'ada', channel: 'sms', state: 'retrying', attempts: 2, last_error: 'HTTP 503 from the SMS provider', updated_at: T0 + 2 }),
      status({ notification_id: N1, user_id: 'ada', channel: 'push', key: `${N1}:ada:push:device-b`, state: 'gone', last_error: 'HTTP 410 Gone' }),
      status({ notification_id: N1, user_id: 'ada', channel: 'email', provider_id: '<m-1@mail.example.com>', updated_at: T0 + 1 }),
      status({ notification_id: N1, user_id: 'ada', channel: 'push', key: `${N1}:ada:push:device-a`, provider_id: 'push-1' }),
      status({ notification_id: N1, user_id: 'bob', channel: 'email', provider_id: '<m-2@mail.example.com>' }),
      status({ notification_id: N2, user_id: 'ada', channel: 'email', state: 'skipped', attempts: 0, last_error: 'no email address' }),
    ]);
  });

  it('keeps the statuses in delivery-status.db in the shared store directory', () => {
    expect(fs.existsSync(path.join(dataDir, 'stores', 'delivery-status.db'))).toBe(true);
  });

  it('lists the user\'s channels: shape, ISO times, ordered by channel then key, optional fields only when known', async () => {
    const r = await api(url, 'GET', deliveriesPath(N1, '?user_id=ada'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      notification_id: N1,
      user_id: 'ada',
      deliveries: [
        { channel: 'email', state: 'sent', attempts: 1, provider_id: '<m-1@mail.example.com>', updated_at: '2026-11-29T15:00:00.124Z' },
        { channel: 'push', state: 'sent', attempts: 1, provider_id: 'push-1', updated_at: '2026-11-29T15:00:00.123Z' },
        { channel: 'push', state: 'gone', attempts: 1, last_error: 'HTTP 410 Gone', updated_at: '2026-11-29T15:00:00.123Z' },
        { channel: 'sms', state: 'retrying', attempts: 2, last_error: 'HTTP 503 from the SMS provider', updated_at: '2026-11-29T15:00:00.125Z' },
      ],
    });
  });

  it('shows only the asked user\'s statuses, of that notification only', async () => {
    const bob = await api(url, 'GET', deliveriesPath(N1, '?user_id=bob'));
    expect(bob.body.deliveries).toEqual([{ channel: 'email', state: 'sent', attempts: 1, provider_id: '<m-2@mail.example.com>', updated_at: '2026-11-29T15:00:00.123Z' }]);
    const n2 = await api(url, 'GET', deliveriesPath(N2, '?user_id=ada'));
    expect(n2.body.deliveries).toEqual([{ channel: 'email', state: 'skipped', attempts: 0, last_error: 'no email address', updated_at: '2026-11-29T15:00:00.123Z' }]);
    expect((await api(url, 'GET', deliveriesPath(N2, '?user_id=bob'))).body).toEqual({ notification_id: N2, user_id: 'bob', deliveries: [] });
  });

  it('an upper-case id is the same notification (UUIDs compare case-insensitively)', async () => {
    const r = await api(url, 'GET', deliveriesPath(N1.toUpperCase(), '?user_id=bob'));
    expect(r.status).toBe(200);
    expect(r.body.notification_id).toBe(N1);
    expect(r.body.deliveries).toHaveLength(1);
  });

  it('an unknown or in-app-only notification answers 200 with no deliveries', async () => {
    expect(await api(url, 'GET', deliveriesPath('0190f3a0-0000-7000-8000-000000000000', '?user_id=ada'))).toMatchObject({ status: 200, body: { deliveries: [] } });
    await api(url, 'POST', '/subscribe', { topic_id: 'news', user_id: 'cy' });
    const pub = await api(url, 'POST', '/publish', { topic_id: 'news', message: 'hello' });
    expect(pub.status).toBe(202);
    expect(await api(url, 'GET', deliveriesPath(pub.body.id, '?user_id=cy'))).toMatchObject({ status: 200, body: { notification_id: pub.body.id, user_id: 'cy', deliveries: [] } });
  });

  it('refuses bad input with 400 and a code', async () => {
    const cases: [string, string][] = [
      [deliveriesPath('not-a-uuid', '?user_id=ada'), 'HERALD_EDGE_ID_INVALID'],
      [deliveriesPath('0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9', '?user_id=ada'), 'HERALD_EDGE_ID_INVALID'],
      [deliveriesPath(`${N1}x`, '?user_id=ada'), 'HERALD_EDGE_ID_INVALID'],
      [deliveriesPath(N1, ''), 'HERALD_EDGE_QUERY_INVALID'],
      [deliveriesPath(N1, '?user_id='), 'HERALD_EDGE_QUERY_INVALID'],
      [deliveriesPath(N1, '?user_id=a%20b'), 'HERALD_EDGE_ID_INVALID'],
      [deliveriesPath(N1, '?user_id=ada&user_id=bob'), 'HERALD_EDGE_QUERY_INVALID'],
      [deliveriesPath(N1, '?user_id=ada&channel=sms'), 'HERALD_EDGE_QUERY_INVALID'],
    ];
    for (const [p, code] of cases) {
      const r = await api(url, 'GET', p);
      expect(r.status, p).toBe(400);
      expect(r.body.error.code, p).toBe(code);
    }
    expect((await api(url, 'POST', deliveriesPath(N1, '?user_id=ada'))).status).toBe(405);
  });
});

describe('GET /notifications/{id}/deliveries with auth on', () => {
  let app: HeraldApp;
  let url: string;
  const pub = PUBLISHER;
  const tokenOf = (userId: string): Promise<string> => userToken(url, userId);
  useHerald({ ...AUTH_ENV }, async (started) => {
    ({ app, url } = started);
    await app.profile.deliveryStatuses.record([status({ notification_id: N1, user_id: 'ada', channel: 'email' })]);
  });

  it('the user\'s own token (header or ?token=) or a publisher key may read; another user\'s token is 403, none 401', async () => {
    const adaToken = await tokenOf('ada');
    const own = await api(url, 'GET', deliveriesPath(N1, '?user_id=ada'), undefined, { authorization: `Bearer ${adaToken}` });
    expect(own.status).toBe(200);
    expect(own.body.deliveries).toHaveLength(1);
    expect((await api(url, 'GET', deliveriesPath(N1, `?user_id=ada&token=${adaToken}`))).status).toBe(200);
    expect((await api(url, 'GET', deliveriesPath(N1, '?user_id=ada'), undefined, pub)).body.deliveries).toHaveLength(1);
    const bob = await api(url, 'GET', deliveriesPath(N1, '?user_id=ada'), undefined, { authorization: `Bearer ${await tokenOf('bob')}` });
    expect(bob.status).toBe(403);
    expect(bob.body.error.code).toBe('HERALD_AUTH_FORBIDDEN');
    const none = await api(url, 'GET', deliveriesPath(N1, '?user_id=ada'));
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('HERALD_AUTH_REQUIRED');
  });
});
