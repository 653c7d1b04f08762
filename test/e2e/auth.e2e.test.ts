/**
 * Auth end to end on a real Herald (embedded profile) with publisher keys and a token secret:
 * publishing and subscription management need a publisher key; reading a user's notifications
 * (fetch and SSE stream) needs that user's token; CORS for a configured browser origin. And with
 * no keys configured (the default), auth is off: tokens cannot be minted and everything is open.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { EventSource } from 'eventsource';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { mintUserToken } from '../../edge/auth/user-token.ts';
import { ROOT, startInProcess, useHerald } from '../helpers/herald.ts';
import { api, waitFor } from '../helpers/http.ts';

const KEY = 'pub-key-0123456789abcdef';
const SECRET = 's'.repeat(48);
const ORIGIN = 'https://app.example.com';

describe('auth on (HERALD_PUBLISHER_KEYS + HERALD_TOKEN_SECRET)', () => {
  let app: HeraldApp;
  let url: string;
  const pub = { authorization: `Bearer ${KEY}` };
  beforeAll(async () => {
    ({ app, url } = await startInProcess({ HERALD_PUBLISHER_KEYS: `other-key-0123456789,${KEY}`, HERALD_TOKEN_SECRET: SECRET, HERALD_CORS_ORIGINS: ORIGIN }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('needs a valid publisher key to publish and manage subscriptions (401 with WWW-Authenticate otherwise)', async () => {
    for (const [method, path, body] of [
      ['POST', '/publish', { topic_id: 'news', message: 'hi' }],
      ['POST', '/subscribe', { topic_id: 'news', user_id: 'ada' }],
      ['DELETE', '/subscribe', { topic_id: 'news', user_id: 'ada' }],
      ['POST', '/tokens', { user_id: 'ada' }],
    ] as const) {
      const none = await api(url, method, path, body);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.body.error.code).toBe('HERALD_AUTH_REQUIRED');
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="herald"');
      const wrong = await api(url, method, path, body, { authorization: 'Bearer not-a-key-0123456789' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('HERALD_AUTH_KEY_INVALID');
      // A user token is not a publisher key.
      const asUser = await api(url, method, path, body, { authorization: `Bearer ${(await mintUserToken(SECRET, 'ada', 60)).token}` });
      expect(asUser.body.error.code).toBe('HERALD_AUTH_KEY_INVALID');
    }
    expect((await api(url, 'POST', '/subscribe', { topic_id: 'news', user_id: 'ada' }, pub)).status).toBe(200);
    expect((await api(url, 'POST', '/publish', { topic_id: 'news', message: 'hi' }, pub)).status).toBe(202);
    expect((await api(url, 'GET', '/healthz')).status).toBe(200); // public
  });

  it('reads a user\'s notifications only with that user\'s token (header or ?token=)', async () => {
    await api(url, 'POST', '/subscribe', { topic_id: 'private', user_id: 'bob' }, pub);
    const p = await api(url, 'POST', '/publish', { topic_id: 'private', message: 'for bob only' }, pub);
    const minted = await api(url, 'POST', '/tokens', { user_id: 'bob', ttl_seconds: 120 }, pub);
    expect(minted.status).toBe(200);
    expect(minted.body).toMatchObject({ user_id: 'bob', token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });
    expect(Date.parse(minted.body.expires_at) - Date.now()).toBeGreaterThan(110_000);
    const bob = minted.body.token as string;
    await waitFor(async () => (await api(url, 'GET', '/notifications?user_id=bob', undefined, { authorization: `Bearer ${bob}` })).body.notifications?.length === 1);
    const byQuery = await api(url, 'GET', `/notifications?user_id=bob&token=${encodeURIComponent(bob)}`);
    expect(byQuery.status).toBe(200);
    expect(byQuery.body.notifications.map((n: { id: string }) => n.id)).toEqual([p.body.id]);

    const cases: [string, Record<string, string>, number, string][] = [
      ['no token', {}, 401, 'HERALD_AUTH_REQUIRED'],
      ["another user's token", { authorization: `Bearer ${(await mintUserToken(SECRET, 'ada', 60)).token}` }, 403, 'HERALD_AUTH_FORBIDDEN'],
      ['an expired token', { authorization: `Bearer ${(await mintUserToken(SECRET, 'bob', 60, Date.now() - 120_000)).token}` }, 401, 'HERALD_AUTH_TOKEN_EXPIRED'],
      ['a forged token', { authorization: `Bearer ${(await mintUserToken('f'.repeat(48), 'bob', 60)).token}` }, 401, 'HERALD_AUTH_TOKEN_INVALID'],
    ];
    for (const [what, headers, status, code] of cases) {
      for (const path of ['/notifications?user_id=bob', '/stream?user_id=bob']) {
        const r = await api(url, 'GET', path, undefined, headers);
        expect(r.status, `${what} on ${path}`).toBe(status);
        expect(r.body.error.code, `${what} on ${path}`).toBe(code);
      }
    }
    // A server may read on a user's behalf with a publisher key.
    expect((await api(url, 'GET', '/notifications?user_id=bob', undefined, pub)).status).toBe(200);
  });

  it('streams over SSE with ?token= (EventSource cannot send headers), and refuses another user\'s token', async () => {
    await api(url, 'POST', '/subscribe', { topic_id: 'live', user_id: 'cy' }, pub);
    const token = (await api(url, 'POST', '/tokens', { user_id: 'cy' }, pub)).body.token as string;
    const got: string[] = [];
    const es = new EventSource(`${url}/stream?user_id=cy&token=${encodeURIComponent(token)}`);
    try {
      await new Promise<void>((resolve, reject) => {
        es.addEventListener('open', () => resolve(), { once: true });
        es.addEventListener('error', () => reject(new Error('stream refused')), { once: true });
      });
      es.addEventListener('notification', (e) => got.push(e.lastEventId));
      const p = await api(url, 'POST', '/publish', { topic_id: 'live', message: 'now' }, pub);
      await waitFor(() => got.length === 1, 15_000, 'the live event');
      expect(got).toEqual([p.body.id]);
    } finally {
      es.close();
    }
    const other = (await mintUserToken(SECRET, 'mallory', 60)).token;
    const r = await fetch(`${url}/stream?user_id=cy&token=${encodeURIComponent(other)}`);
    expect(r.status).toBe(403);
  });

  it('opens WebSocket streams only with the user\'s token (?token=), refusing the upgrade otherwise', async () => {
    await api(url, 'POST', '/subscribe', { topic_id: 'ws-live', user_id: 'dee' }, pub);
    const token = (await api(url, 'POST', '/tokens', { user_id: 'dee' }, pub)).body.token as string;
    const wsUrl = url.replace('http://', 'ws://');
    const refused = async (query: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${wsUrl}/ws?user_id=dee${query}`);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
    expect(await refused('')).toBe(401);
    // A page on another origin may not open it even with the token (browsers send Origin).
    const fromEvil = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${wsUrl}/ws?user_id=dee&token=${encodeURIComponent(token)}`, { origin: 'https://evil.example.com' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(fromEvil).toBe(403);
    expect(await refused(`&token=${encodeURIComponent((await mintUserToken(SECRET, 'mallory', 60)).token)}`)).toBe(403);
    const ws = new WebSocket(`${wsUrl}/ws?user_id=dee&token=${encodeURIComponent(token)}`);
    const got: string[] = [];
    ws.on('message', (m) => got.push((JSON.parse(String(m)) as { id: string }).id));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    try {
      const p = await api(url, 'POST', '/publish', { topic_id: 'ws-live', message: 'over ws' }, pub);
      await waitFor(() => got.length === 1, 15_000, 'the WebSocket event');
      expect(got).toEqual([p.body.id]);
    } finally {
      ws.close();
    }
  });

  it('mints tokens from the CLI (`herald token`) that the edge accepts', () => {
    const out = spawnSync(process.execPath, [path.join(ROOT, 'cli/herald.ts'), 'token', '--user', 'bob', '--ttl', '60'], { env: { ...process.env, HERALD_TOKEN_SECRET: SECRET }, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const token = out.stdout.trim();
    expect(out.stderr).toMatch(/token for bob, expires/);
    return api(url, 'GET', '/notifications?user_id=bob', undefined, { authorization: `Bearer ${token}` }).then((r) => expect(r.status).toBe(200));
  });

  it('answers CORS for the configured origin, preflight included', async () => {
    const pre = await fetch(`${url}/publish`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const r = await api(url, 'POST', '/publish', { topic_id: 'news', message: 'x' }, { ...pub, origin: ORIGIN });
    expect(r.status).toBe(202);
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await api(url, 'GET', '/healthz', undefined, { origin: 'https://other.example.com' })).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('auth off (no keys: the embedded default)', () => {
  let app: HeraldApp;
  let url: string;
  useHerald({}, (started) => void ({ app, url } = started));

  it('serves everything without credentials and says tokens are not needed', async () => {
    expect((await api(url, 'POST', '/subscribe', { topic_id: 'news', user_id: 'ada' })).status).toBe(200);
    expect((await api(url, 'GET', '/notifications?user_id=ada')).status).toBe(200);
    const t = await api(url, 'POST', '/tokens', { user_id: 'ada' });
    expect(t.status).toBe(409);
    expect(t.body.error.code).toBe('HERALD_AUTH_DISABLED');
  });
});

describe('auth settings', () => {
  it('name only the invalid setting, and treat an empty value as unset', async () => {
    const bad = await startInProcess({ HERALD_PUBLISHER_KEYS: KEY, HERALD_TOKEN_SECRET: 'tooshort' }).catch((e: { message: string }) => e);
    expect((bad as { message: string }).message).toContain('HERALD_TOKEN_SECRET="tooshort" is invalid');
    expect((bad as { message: string }).message).not.toContain('is set but');
    const { app } = await startInProcess({ HERALD_PUBLISHER_KEYS: '', HERALD_TOKEN_SECRET: '' });
    await app.close();
  });
  it('refuse to start with keys but no secret, or a short key', async () => {
    await expect(startInProcess({ HERALD_PUBLISHER_KEYS: KEY })).rejects.toMatchObject({ code: 'HERALD_CONFIG_INVALID', message: expect.stringContaining('HERALD_TOKEN_SECRET') });
    await expect(startInProcess({ HERALD_PUBLISHER_KEYS: 'short', HERALD_TOKEN_SECRET: SECRET })).rejects.toMatchObject({ code: 'HERALD_CONFIG_INVALID', message: expect.stringContaining('HERALD_PUBLISHER_KEYS') });
  });
});
