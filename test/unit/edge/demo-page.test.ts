/**
 * The demo page's routes (edge/routes/demo-page.ts) over real HTTP, without the rest of the edge:
 * content types, caching headers, ETag revalidation, CSP, HEAD, and only the listed files.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Router } from '../../../edge/http/router.ts';
import { sendError } from '../../../edge/http/json.ts';
import { DEMO_PAGE_CSP, demoPageRoutes } from '../../../edge/routes/demo-page.ts';

let server: http.Server;
let base = '';

beforeAll(async () => {
  const router = new Router();
  demoPageRoutes(router);
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://edge');
    try {
      void router.match(req.method ?? 'GET', url.pathname).handler(req, res, url);
    } catch (err) {
      sendError(res, err);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('demo page routes', () => {
  it.each([
    ['/', 'text/html; charset=utf-8', 'no-cache', '<script type="module" src="app.js">'],
    ['/app.js', 'text/javascript; charset=utf-8', 'public, max-age=60', 'new EventSource('],
    ['/style.css', 'text/css; charset=utf-8', 'public, max-age=60', '#connection-state'],
    ['/favicon.svg', 'image/svg+xml', 'public, max-age=3600', '<svg'],
  ])('GET %s: content type, caching, CSP, ETag', async (path, type, cache, snippet) => {
    const r = await fetch(base + path);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(type);
    expect(r.headers.get('cache-control')).toBe(cache);
    expect(r.headers.get('content-security-policy')).toBe(DEMO_PAGE_CSP);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.text()).toContain(snippet);
    const etag = r.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{22}"$/);

    const again = await fetch(base + path, { headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    expect((await fetch(base + path, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
  });

  it('answers HEAD with the headers only', async () => {
    const r = await fetch(`${base}/app.js`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('content-length'))).toBeGreaterThan(1000);
    expect(await r.text()).toBe('');
  });

  it('serves only its listed files: other paths, traversal included, are 404', async () => {
    for (const path of ['/index.html', '/public/app.js', '/../demo-page.ts', '/%2e%2e/routes/demo-page.ts', '/app.js/']) {
      const r = await fetch(base + path);
      expect(r.status, path).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('HERALD_EDGE_NOT_FOUND');
    }
    expect((await fetch(`${base}/app.js`, { method: 'POST' })).status).toBe(405);
  });
});
