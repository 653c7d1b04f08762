import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorsPolicy } from '../../../../edge/http/cors.ts';

/** A real HTTP server answering 200 "routed" unless the policy answered first. */
async function serve(origins: string[]): Promise<{ url: string; close: () => Promise<void> }> {
  const policy = new CorsPolicy(origins);
  const server = http.createServer((req, res) => {
    if (policy.apply(req, res)) return;
    res.end('routed');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('CORS policy', () => {
  let listed: Awaited<ReturnType<typeof serve>>;
  let any: Awaited<ReturnType<typeof serve>>;
  let none: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    [listed, any, none] = await Promise.all([serve(['https://app.example.com']), serve(['*']), serve([])]);
  });
  afterAll(async () => {
    await Promise.all([listed.close(), any.close(), none.close()]);
  });

  it('echoes an allowed origin with Vary: Origin and exposed headers', async () => {
    const r = await fetch(`${listed.url}/notifications`, { headers: { origin: 'https://app.example.com' } });
    expect(await r.text()).toBe('routed');
    expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(r.headers.get('vary')).toBe('Origin');
    expect(r.headers.get('access-control-expose-headers')).toContain('retry-after');
  });

  it('answers an allowed preflight with 204, the methods and the headers the API reads', async () => {
    const r = await fetch(`${listed.url}/publish`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, idempotency-key' } });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-methods')).toContain('POST');
    expect(r.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    expect(r.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(Number(r.headers.get('access-control-max-age'))).toBeGreaterThan(0);
  });

  it('gives another origin no CORS headers, and refuses its preflight (403)', async () => {
    const r = await fetch(`${listed.url}/notifications`, { headers: { origin: 'https://evil.example.com' } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const p = await fetch(`${listed.url}/publish`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
    expect(p.status).toBe(403);
    expect(((await p.json()) as { error: { code: string } }).error.code).toBe('HERALD_EDGE_ORIGIN_NOT_ALLOWED');
  });

  it('* allows any origin; an empty list adds nothing and routes preflights like any request', async () => {
    expect((await fetch(`${any.url}/x`, { headers: { origin: 'http://localhost:3000' } })).headers.get('access-control-allow-origin')).toBe('*');
    const r = await fetch(`${none.url}/x`, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' } });
    expect(await r.text()).toBe('routed');
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('redactUrl (logs never carry user tokens)', () => {
  it('masks every token parameter and leaves other URLs alone', async () => {
    const { redactUrl } = await import('../../../../edge/auth/access.ts');
    expect(redactUrl('/stream?user_id=a&token=eyJ.x.y')).toBe('/stream?user_id=a&token=***');
    expect(redactUrl('/ws?token=abc&user_id=a&token=def')).toBe('/ws?token=***&user_id=a&token=***');
    expect(redactUrl('/notifications?user_id=a')).toBe('/notifications?user_id=a');
    expect(redactUrl(undefined)).toBeUndefined();
  });
});

describe('WebSocket origins (no CORS in browsers for WebSockets)', () => {
  const req = (origin: string | undefined, host = 'edge.example.com:8080') => ({ headers: { ...(origin === undefined ? {} : { origin }), host } }) as unknown as import('node:http').IncomingMessage;
  it('allows non-browsers, the same origin and listed origins; refuses the rest', () => {
    const listed = new CorsPolicy(['https://app.example.com']);
    expect(listed.allowsWebSocket(req(undefined))).toBe(true);
    expect(listed.allowsWebSocket(req('https://edge.example.com:8080'))).toBe(true);
    expect(listed.allowsWebSocket(req('https://app.example.com'))).toBe(true);
    expect(listed.allowsWebSocket(req('https://evil.example.com'))).toBe(false);
    expect(listed.allowsWebSocket(req('not a url'))).toBe(false);
    // No origins configured: same origin only (protects an auth-off edge from any web page).
    expect(new CorsPolicy([]).allowsWebSocket(req('https://evil.example.com'))).toBe(false);
    expect(new CorsPolicy(['*']).allowsWebSocket(req('https://evil.example.com'))).toBe(true);
  });
});
