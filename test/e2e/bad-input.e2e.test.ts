/**
 * Bad input over real HTTP: each gets its documented 4xx status and stable error code, and the
 * process keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/http.ts';
import { startInProcess } from '../helpers/herald.ts';
import type { HeraldApp } from '../../jobs/app.ts';

describe('bad input', () => {
  let app: HeraldApp;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await startInProcess({ HERALD_MAX_MESSAGE_BYTES: '64' }));
  });
  afterAll(async () => {
    await app?.close();
  });

  const cases: { name: string; method: string; path: string; body?: unknown; headers?: Record<string, string>; status: number; code: string }[] = [
    { name: 'malformed JSON', method: 'POST', path: '/publish', body: '{"topic_id": "t1", "message": ', status: 400, code: 'HERALD_EDGE_BODY_INVALID_JSON' },
    { name: 'empty body', method: 'POST', path: '/subscribe', body: '', status: 400, code: 'HERALD_EDGE_BODY_INVALID_JSON' },
    { name: 'body not UTF-8 (Latin-1 é)', method: 'POST', path: '/publish', body: Buffer.from('{"topic_id":"t1","message":"caf\xe9"}', 'latin1'), status: 400, code: 'HERALD_EDGE_BODY_INVALID_JSON' },
    { name: 'body not an object', method: 'POST', path: '/publish', body: '[1,2]', status: 400, code: 'HERALD_EDGE_BODY_INVALID' },
    { name: 'message of wrong type', method: 'POST', path: '/publish', body: { topic_id: 't1', message: 42 }, status: 400, code: 'HERALD_EDGE_BODY_INVALID' },
    { name: 'message array', method: 'POST', path: '/publish', body: { topic_id: 't1', message: [1] }, status: 400, code: 'HERALD_EDGE_BODY_INVALID' },
    { name: 'missing message', method: 'POST', path: '/publish', body: { topic_id: 't1' }, status: 400, code: 'HERALD_EDGE_BODY_INVALID' },
    { name: 'unknown field', method: 'POST', path: '/publish', body: { topic_id: 't1', message: 'x', mesage: 'typo' }, status: 400, code: 'HERALD_EDGE_BODY_INVALID' },
    { name: 'topic_id of wrong type', method: 'POST', path: '/publish', body: { topic_id: 7, message: 'x' }, status: 400, code: 'HERALD_EDGE_ID_INVALID' },
    { name: 'oversized message', method: 'POST', path: '/publish', body: { topic_id: 't1', message: 'x'.repeat(65) }, status: 413, code: 'HERALD_EDGE_MESSAGE_TOO_LARGE' },
    { name: 'oversized object message', method: 'POST', path: '/publish', body: { topic_id: 't1', message: { text: 'é'.repeat(40) } }, status: 413, code: 'HERALD_EDGE_MESSAGE_TOO_LARGE' },
    { name: 'huge body', method: 'POST', path: '/publish', body: { topic_id: 't1', message: 'x'.repeat(600_000) }, status: 413, code: 'HERALD_EDGE_BODY_TOO_LARGE' },
    { name: 'bad topic id', method: 'POST', path: '/subscribe', body: { topic_id: 'has space', user_id: 'u1' }, status: 400, code: 'HERALD_EDGE_ID_INVALID' },
    { name: 'too long user id', method: 'POST', path: '/subscribe', body: { topic_id: 't', user_id: 'u'.repeat(129) }, status: 400, code: 'HERALD_EDGE_ID_INVALID' },
    { name: 'bad user id on delete', method: 'DELETE', path: '/subscribe', body: { topic_id: 't', user_id: 'a/b' }, status: 400, code: 'HERALD_EDGE_ID_INVALID' },
    { name: 'wrong content type', method: 'POST', path: '/subscribe', body: 'topic_id=t', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'HERALD_EDGE_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'bad idempotency key', method: 'POST', path: '/publish', body: { topic_id: 't1', message: 'x' }, headers: { 'idempotency-key': 'has space' }, status: 400, code: 'HERALD_EDGE_IDEMPOTENCY_KEY_INVALID' },
    { name: 'deeply nested message', method: 'POST', path: '/publish', body: `{"topic_id":"t1","message":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, status: 400, code: 'HERALD_EDGE_BODY_INVALID' },
    { name: 'JSON-like content type', method: 'POST', path: '/subscribe', body: { topic_id: 't', user_id: 'u' }, headers: { 'content-type': 'application/json-patch+xml' }, status: 415, code: 'HERALD_EDGE_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'impossible since date', method: 'GET', path: '/notifications?user_id=u1&since=2026-02-30T00:00:00Z', status: 400, code: 'HERALD_EDGE_QUERY_INVALID' },
    { name: 'repeated user_id', method: 'GET', path: '/notifications?user_id=u1&user_id=u2', status: 400, code: 'HERALD_EDGE_QUERY_INVALID' },
    { name: 'unknown route', method: 'GET', path: '/nope', status: 404, code: 'HERALD_EDGE_NOT_FOUND' },
    { name: 'wrong method', method: 'PUT', path: '/publish', status: 405, code: 'HERALD_EDGE_METHOD_NOT_ALLOWED' },
    { name: 'notifications without user', method: 'GET', path: '/notifications', status: 400, code: 'HERALD_EDGE_QUERY_INVALID' },
    { name: 'notifications bad user', method: 'GET', path: '/notifications?user_id=%20x', status: 400, code: 'HERALD_EDGE_ID_INVALID' },
    { name: 'bad since', method: 'GET', path: '/notifications?user_id=u1&since=yesterday', status: 400, code: 'HERALD_EDGE_QUERY_INVALID' },
    { name: 'limit too large', method: 'GET', path: '/notifications?user_id=u1&limit=1001', status: 400, code: 'HERALD_EDGE_QUERY_INVALID' },
    { name: 'limit zero', method: 'GET', path: '/notifications?user_id=u1&limit=0', status: 400, code: 'HERALD_EDGE_QUERY_INVALID' },
    { name: 'garbage cursor', method: 'GET', path: '/notifications?user_id=u1&cursor=not-a-cursor', status: 400, code: 'HERALD_EDGE_CURSOR_INVALID' },
    { name: 'stream bad user', method: 'GET', path: '/stream?user_id=', status: 400, code: 'HERALD_EDGE_QUERY_INVALID' },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const r = await api(url, c.method, c.path, c.body, c.headers);
      expect(r.status).toBe(c.status);
      expect(r.body.error.code).toBe(c.code);
      expect(typeof r.body.error.message).toBe('string');
      expect(r.body.error.message.length).toBeGreaterThan(10);
    });
  }

  it('keeps serving after all of that', async () => {
    expect((await api(url, 'GET', '/healthz')).status).toBe(200);
    const sub = await api(url, 'POST', '/subscribe', { topic_id: 't1', user_id: 'u1' });
    expect(sub.status).toBe(200);
    const pub = await api(url, 'POST', '/publish', { topic_id: 't1', message: 'x'.repeat(64) });
    expect(pub.status).toBe(202);
  });

  it('serves Prometheus metrics with the herald_ prefix', async () => {
    const r = await api(url, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toContain('herald_http_requests_total');
    expect(r.body).toContain('herald_publish_total');
    // The Bloom windows are reported, and bounded: a fixed size per owned partition.
    const bloom = /herald_operator_state_bytes\{stage="fanout",operator="dedup"\} (\d+)/.exec(r.body);
    expect(Number(bloom?.[1])).toBeGreaterThan(0);
    expect(Number(bloom?.[1]) % 12).toBe(0);
    expect(r.body).toMatch(/herald_consumer_lag_records\{stage="fanout",partition="\d+"\} \d+/);
  });
});
