/**
 * Notification templates and per-topic settings end to end on a real Herald (embedded profile):
 * create, read, replace, delete, 404s, content and template validation with their codes, topic
 * settings round trip; then with auth on, only a publisher key may use these routes.
 */
import { describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { useHerald } from '../helpers/herald.ts';
import { AUTH_ENV, PUBLISHER, userToken } from '../helpers/auth.ts';
import { api } from '../helpers/http.ts';

const welcome = {
  email: { subject: 'Welcome, {{name}}', text: 'Hi {{name}}, your code is {{code}}.', html: '<p>Hi {{name}}</p>' },
  sms: { text: 'Hi {{name}}: {{code}}' },
  push: { title: 'Welcome', body: 'Hi {{name}}', url: 'https://example.com/welcome/{{code}}' },
};
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('templates and topic settings (auth off)', () => {
  let app: HeraldApp;
  let url: string;
  useHerald({}, (started) => void ({ app, url } = started));

  it('create, read, replace (updated_at grows), delete, then 404', async () => {
    expect((await api(url, 'GET', '/templates/welcome')).body.error.code).toBe('HERALD_EDGE_TEMPLATE_NOT_FOUND');
    const before = Date.now();
    const put = await api(url, 'PUT', '/templates/welcome', welcome);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ template_id: 'welcome', content: welcome });
    expect(put.body.updated_at).toMatch(ISO_MS);
    expect(Date.parse(put.body.updated_at)).toBeGreaterThanOrEqual(before);
    const got = await api(url, 'GET', '/templates/welcome');
    expect(got.status).toBe(200);
    expect(got.body).toEqual(put.body);

    const replaced = await api(url, 'PUT', '/templates/welcome', { sms: { text: 'v2 {{name}}' } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.content).toEqual({ sms: { text: 'v2 {{name}}' } });
    expect(Date.parse(replaced.body.updated_at)).toBeGreaterThan(Date.parse(put.body.updated_at));
    expect((await api(url, 'GET', '/templates/welcome')).body).toEqual(replaced.body);

    const del = await api(url, 'DELETE', '/templates/welcome');
    expect(del.status).toBe(204);
    expect(del.body).toBe('');
    const gone = await api(url, 'GET', '/templates/welcome');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('HERALD_EDGE_TEMPLATE_NOT_FOUND');
    const again = await api(url, 'DELETE', '/templates/welcome');
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('HERALD_EDGE_TEMPLATE_NOT_FOUND');
  });

  it('a bad template is 400 HERALD_EDGE_TEMPLATE_INVALID naming the field; nothing is stored', async () => {
    const cases: [unknown, string][] = [
      [{ sms: { text: 'Hi {{name' } }, 'sms.text'],
      [{ email: { subject: 'ok', text: 'ok', html: '{{#if x}}unclosed' } }, 'email.html'],
      [{ push: { title: '{{shout name}}', body: 'b' } }, 'push.title'],
      [{ sms: { text: '{{> footer}}' } }, 'sms.text'],
    ];
    for (const [body, field] of cases) {
      const r = await api(url, 'PUT', '/templates/bad', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code, JSON.stringify(body)).toBe('HERALD_EDGE_TEMPLATE_INVALID');
      expect(r.body.error.message).toContain(field);
    }
    expect((await api(url, 'GET', '/templates/bad')).status).toBe(404);
  });

  it('bad content is 400 HERALD_EDGE_CONTENT_INVALID; bad ids 400 HERALD_EDGE_ID_INVALID; a valid template survives a bad replace', async () => {
    await api(url, 'PUT', '/templates/kept', { sms: { text: 'kept' } });
    const cases: unknown[] = [
      {},
      { fax: { text: 'x' } },
      { sms: 'text' },
      { sms: { text: '' } },
      { email: { subject: 's' } },
      { email: { subject: 's'.repeat(999), text: 't' } },
      { sms: { text: 'x'.repeat(1_601) } },
      { push: { title: 't', body: 'b', url: 'javascript:alert(1)' } },
      [],
    ];
    for (const body of cases) {
      const r = await api(url, 'PUT', '/templates/kept', body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.code, JSON.stringify(body).slice(0, 80)).toBe('HERALD_EDGE_CONTENT_INVALID');
    }
    expect((await api(url, 'GET', '/templates/kept')).body.content).toEqual({ sms: { text: 'kept' } });
    expect((await api(url, 'PUT', '/templates/bad%20id', { sms: { text: 'x' } })).body.error.code).toBe('HERALD_EDGE_ID_INVALID');
    expect((await api(url, 'GET', `/templates/${'x'.repeat(129)}`)).body.error.code).toBe('HERALD_EDGE_ID_INVALID');
    expect((await api(url, 'PUT', '/templates/kept', 'not json', { 'content-type': 'application/json' })).body.error.code).toBe('HERALD_EDGE_BODY_INVALID_JSON');
  });

  it('topic settings: default false, round trip, validation', async () => {
    expect(await api(url, 'GET', '/topics/alerts/settings')).toMatchObject({ status: 200, body: { topic_id: 'alerts', critical: false } });
    const put = await api(url, 'PUT', '/topics/alerts/settings', { critical: true });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ topic_id: 'alerts', critical: true });
    expect((await api(url, 'GET', '/topics/alerts/settings')).body).toEqual({ topic_id: 'alerts', critical: true });
    expect((await api(url, 'GET', '/topics/other/settings')).body).toEqual({ topic_id: 'other', critical: false });
    expect((await api(url, 'PUT', '/topics/alerts/settings', { critical: false })).body).toEqual({ topic_id: 'alerts', critical: false });
    for (const body of [{}, { critical: 'yes' }, { critical: 1 }, { critical: true, muted: true }, null]) {
      const r = await api(url, 'PUT', '/topics/alerts/settings', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code, JSON.stringify(body)).toBe('HERALD_EDGE_BODY_INVALID');
    }
    expect((await api(url, 'PUT', '/topics/bad%20topic/settings', { critical: true })).body.error.code).toBe('HERALD_EDGE_ID_INVALID');
  });

  it('other methods → 405; metrics label the pattern', async () => {
    const r = await api(url, 'POST', '/templates/welcome', welcome);
    expect(r.status).toBe(405);
    expect(r.body.error.code).toBe('HERALD_EDGE_METHOD_NOT_ALLOWED');
    expect((await api(url, 'DELETE', '/topics/alerts/settings')).status).toBe(405);
    const metrics = (await api(url, 'GET', '/metrics')).body as string;
    expect(metrics).toContain('route="PUT /templates/:template_id"');
    expect(metrics).not.toContain('route="PUT /templates/welcome"');
  });
});

describe('templates and topic settings with auth on', () => {
  let app: HeraldApp;
  let url: string;
  const pub = PUBLISHER;
  useHerald({ ...AUTH_ENV }, (started) => void ({ app, url } = started));

  it('a publisher key may; no credentials → 401, a user token → 401 (not a publisher key)', async () => {
    expect((await api(url, 'PUT', '/templates/welcome', welcome, pub)).status).toBe(200);
    expect((await api(url, 'GET', '/templates/welcome', undefined, pub)).body.content).toEqual(welcome);
    expect((await api(url, 'PUT', '/topics/alerts/settings', { critical: true }, pub)).status).toBe(200);
    expect((await api(url, 'GET', '/topics/alerts/settings', undefined, pub)).body.critical).toBe(true);
    const token = await userToken(url, 'ada');
    const user = { authorization: `Bearer ${token}` };
    for (const [method, path, body] of [
      ['PUT', '/templates/welcome', { sms: { text: 'evil' } }],
      ['GET', '/templates/welcome', undefined],
      ['DELETE', '/templates/welcome', undefined],
      ['PUT', '/topics/alerts/settings', { critical: false }],
      ['GET', '/topics/alerts/settings', undefined],
    ] as const) {
      const none = await api(url, method, path, body);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.body.error.code).toBe('HERALD_AUTH_REQUIRED');
      expect((await api(url, method, path, body, user)).status, `${method} ${path} with a user token`).toBe(401);
    }
    expect((await api(url, 'GET', '/templates/welcome', undefined, pub)).body.content).toEqual(welcome);
    expect((await api(url, 'DELETE', '/templates/welcome', undefined, pub)).status).toBe(204);
  });
});
