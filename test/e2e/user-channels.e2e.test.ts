/**
 * Users' channel settings and preferences end to end on a real Herald (embedded profile):
 * PUT/GET round trips, PUT as full replacement, validation 400s with their codes, push
 * subscriptions deduplicated by endpoint and limited, preferences; then with auth on, who may
 * manage a user's channels (a publisher key, or that user's own token; not another user's).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { useHerald } from '../helpers/herald.ts';
import { AUTH_ENV, PUBLISHER, userToken } from '../helpers/auth.ts';
import { api } from '../helpers/http.ts';

/** A Web Push subscription as a browser gives it (toJSON, with expirationTime). */
function browserSub(n: number): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } } {
  return {
    endpoint: `https://fcm.googleapis.com/fcm/send/device-${n}`,
    expirationTime: null,
    keys: { p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}
const stored = (s: ReturnType<typeof browserSub>) => ({ endpoint: s.endpoint, keys: s.keys });

describe('user channels and preferences (auth off)', () => {
  let app: HeraldApp;
  let url: string;
  useHerald({}, (started) => void ({ app, url } = started));

  it('a user with nothing stored reads as empty settings and default preferences', async () => {
    expect(await api(url, 'GET', '/users/nobody/channels')).toMatchObject({ status: 200, body: { user_id: 'nobody', email: null, phone: null, push: [] } });
    expect(await api(url, 'GET', '/users/nobody/preferences')).toMatchObject({ status: 200, body: { user_id: 'nobody', channels: {}, topics: {} } });
  });

  it('PUT then GET round trip; PUT replaces everything (a field left out is cleared)', async () => {
    const sub = browserSub(1);
    const put = await api(url, 'PUT', '/users/ada/channels', { email: 'ada@example.com', phone: '+14155550123', push: [sub] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ user_id: 'ada', email: 'ada@example.com', phone: '+14155550123', push: [stored(sub)] });
    expect((await api(url, 'GET', '/users/ada/channels')).body).toEqual(put.body);
    const second = await api(url, 'PUT', '/users/ada/channels', { phone: '+447700900123' });
    expect(second.body).toEqual({ user_id: 'ada', email: null, phone: '+447700900123', push: [] });
    expect((await api(url, 'GET', '/users/ada/channels')).body).toEqual(second.body);
    expect((await api(url, 'PUT', '/users/ada/channels', { email: null, phone: null, push: null })).body).toEqual({ user_id: 'ada', email: null, phone: null, push: [] });
    // another user is untouched; ids are strings
    await api(url, 'PUT', '/users/007/channels', { email: 'bond@example.com' });
    expect((await api(url, 'GET', '/users/7/channels')).body.email).toBeNull();
    expect((await api(url, 'GET', '/users/007/channels')).body.email).toBe('bond@example.com');
  });

  it('refuses bad addresses with 400 and a code, and stores nothing', async () => {
    await api(url, 'PUT', '/users/bob/channels', { email: 'bob@example.com' });
    const cases: [unknown, string][] = [
      [{ email: 'not an address' }, 'HERALD_EDGE_EMAIL_INVALID'],
      [{ email: 'Bob <bob@example.com>' }, 'HERALD_EDGE_EMAIL_INVALID'],
      [{ email: 'bob@localhost' }, 'HERALD_EDGE_EMAIL_INVALID'],
      [{ email: 42 }, 'HERALD_EDGE_EMAIL_INVALID'],
      [{ phone: '4155550123' }, 'HERALD_EDGE_PHONE_INVALID'],
      [{ phone: '+1 415 555 0123' }, 'HERALD_EDGE_PHONE_INVALID'],
      [{ phone: 14155550123 }, 'HERALD_EDGE_PHONE_INVALID'],
      [{ push: { endpoint: 'https://x.example/1' } }, 'HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID'],
      [{ push: [{ endpoint: 'https://x.example/1', keys: { p256dh: 'short', auth: 'x' } }] }, 'HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID'],
      [{ push: [{ ...browserSub(1), endpoint: 'http://push.example.com/1' }] }, 'HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID'],
      [{ fax: '+14155550123' }, 'HERALD_EDGE_BODY_INVALID'],
      [[], 'HERALD_EDGE_BODY_INVALID'],
    ];
    for (const [body, code] of cases) {
      const r = await api(url, 'PUT', '/users/bob/channels', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code, JSON.stringify(body)).toBe(code);
    }
    expect((await api(url, 'PUT', '/users/bad%20id/channels', {})).body.error.code).toBe('HERALD_EDGE_ID_INVALID');
    expect((await api(url, 'GET', '/users/bob/channels')).body).toEqual({ user_id: 'bob', email: 'bob@example.com', phone: null, push: [] });
  });

  it('push subscriptions: deduplicated by endpoint (newest keys), at most 10', async () => {
    const a = browserSub(1);
    const b = browserSub(2);
    const aAgain = { ...browserSub(1) };
    const r = await api(url, 'PUT', '/users/cy/channels', { push: [a, b, aAgain] });
    expect(r.status).toBe(200);
    expect(r.body.push).toEqual([stored(aAgain), stored(b)]);
    const ten = Array.from({ length: 10 }, (_, i) => browserSub(i));
    expect((await api(url, 'PUT', '/users/cy/channels', { push: [...ten, browserSub(0)] })).body.push).toHaveLength(10);
    const eleven = await api(url, 'PUT', '/users/cy/channels', { push: [...ten, browserSub(10)] });
    expect(eleven.status).toBe(400);
    expect(eleven.body.error.code).toBe('HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID');
    expect((await api(url, 'GET', '/users/cy/channels')).body.push).toHaveLength(10);
  });

  it('preferences: round trip, full replacement, validation', async () => {
    const prefs = { channels: { email: false }, topics: { news: { push: false, in_app: true }, 'orders:1': { email: true } } };
    expect((await api(url, 'PUT', '/users/dee/preferences', prefs)).body).toEqual({ user_id: 'dee', ...prefs });
    expect((await api(url, 'GET', '/users/dee/preferences')).body).toEqual({ user_id: 'dee', ...prefs });
    expect((await api(url, 'PUT', '/users/dee/preferences', { topics: { news: { sms: false } } })).body).toEqual({ user_id: 'dee', channels: {}, topics: { news: { sms: false } } });
    const cases: unknown[] = [
      { channels: { email: 'no' } },
      { channels: { fax: false } },
      { channels: [] },
      { topics: { 'bad topic': { email: false } } },
      { topics: { news: { in_app: 1 } } },
      { topics: { news: true } },
      { topics: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`t${i}`, { email: false }])) },
    ];
    for (const body of cases) {
      const r = await api(url, 'PUT', '/users/dee/preferences', body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.code).toBe('HERALD_EDGE_PREFERENCES_INVALID');
    }
    const max = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`topic-${i}`, { email: false, sms: true, push: false, in_app: true }]));
    expect((await api(url, 'PUT', '/users/dee/preferences', { topics: max })).status).toBe(200);
    expect(Object.keys((await api(url, 'GET', '/users/dee/preferences')).body.topics)).toHaveLength(1000);
  });

  it('other methods → 405 with Allow; other paths → 404; metrics label the pattern', async () => {
    const r = await api(url, 'DELETE', '/users/ada/channels');
    expect(r.status).toBe(405);
    expect(r.body.error.code).toBe('HERALD_EDGE_METHOD_NOT_ALLOWED');
    expect((await api(url, 'GET', '/users/ada/other')).status).toBe(404);
    expect((await api(url, 'GET', '/users//channels')).status).toBe(404);
    const metrics = (await api(url, 'GET', '/metrics')).body as string;
    expect(metrics).toContain('route="PUT /users/:user_id/channels"');
    expect(metrics).not.toContain('route="PUT /users/ada/channels"');
  });
});

describe('user channels with auth on', () => {
  let app: HeraldApp;
  let url: string;
  const pub = PUBLISHER;
  const tokenOf = (userId: string): Promise<string> => userToken(url, userId);
  useHerald({ ...AUTH_ENV }, (started) => void ({ app, url } = started));

  it('a publisher key may manage any user\'s channels and preferences', async () => {
    expect((await api(url, 'PUT', '/users/ada/channels', { email: 'ada@example.com' }, pub)).status).toBe(200);
    expect((await api(url, 'GET', '/users/ada/channels', undefined, pub)).body.email).toBe('ada@example.com');
    expect((await api(url, 'PUT', '/users/ada/preferences', { channels: { sms: false } }, pub)).status).toBe(200);
    expect((await api(url, 'GET', '/users/ada/preferences', undefined, pub)).body.channels).toEqual({ sms: false });
  });

  it('the user\'s own token may (a browser registering its push subscription); another user\'s token is 403', async () => {
    const ada = { authorization: `Bearer ${await tokenOf('ada')}` };
    const bob = { authorization: `Bearer ${await tokenOf('bob')}` };
    const sub = browserSub(1);
    const own = await api(url, 'PUT', '/users/ada/channels', { email: 'ada@example.com', push: [sub] }, ada);
    expect(own.status).toBe(200);
    expect(own.body.push).toEqual([stored(sub)]);
    expect((await api(url, 'GET', '/users/ada/channels', undefined, ada)).status).toBe(200);
    expect((await api(url, 'PUT', '/users/ada/preferences', { topics: { news: { push: false } } }, ada)).status).toBe(200);
    for (const [method, path, body] of [
      ['PUT', '/users/ada/channels', { email: 'evil@example.com' }],
      ['GET', '/users/ada/channels', undefined],
      ['PUT', '/users/ada/preferences', {}],
      ['GET', '/users/ada/preferences', undefined],
    ] as const) {
      const r = await api(url, method, path, body, bob);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code).toBe('HERALD_AUTH_FORBIDDEN');
      const none = await api(url, method, path, body);
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('HERALD_AUTH_REQUIRED');
    }
    expect((await api(url, 'GET', '/users/ada/channels', undefined, pub)).body.email).toBe('ada@example.com');
    // a percent-encoded path is the same user: the decoded id is what is checked
    expect((await api(url, 'GET', '/users/%61da/channels', undefined, ada)).status).toBe(200);
  });
});
