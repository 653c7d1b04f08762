/**
 * The demo page (edge/public/): GET / → index.html, GET /app.js, /style.css, /favicon.svg.
 *
 * A fixed list of files, read once when the router is built: no part of the request path reaches
 * the file system, so there is nothing to traverse. Every answer carries an ETag (304 on a
 * matching If-None-Match) and a Content-Security-Policy that allows this origin only (no inline
 * script or style, no other hosts). index.html is `no-cache` (always revalidated); the assets may
 * be reused for a minute.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Router } from '../http/router.ts';

/** Directory of the page's files. */
export const PUBLIC_DIR = new URL('../public/', import.meta.url);

/** Content-Security-Policy of the page: this origin only. */
export const DEMO_PAGE_CSP = "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'; object-src 'none'";

/** Request path → file in {@link PUBLIC_DIR}, content type and Cache-Control. */
const FILES = [
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8', cache: 'no-cache' },
  { path: '/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8', cache: 'public, max-age=60' },
  { path: '/style.css', file: 'style.css', type: 'text/css; charset=utf-8', cache: 'public, max-age=60' },
  { path: '/favicon.svg', file: 'favicon.svg', type: 'image/svg+xml', cache: 'public, max-age=3600' },
] as const;

/** True when an If-None-Match header (a list of tags, weak or strong, or `*`) matches `etag`. */
function matchesEtag(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * Registers the demo page's routes.
 * @throws Error when a file of the page is missing from `dir`
 */
export function demoPageRoutes(router: Router, dir: URL = PUBLIC_DIR): void {
  for (const f of FILES) {
    const body = fs.readFileSync(new URL(f.file, dir));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    const headers = {
      etag,
      'cache-control': f.cache,
      'content-security-policy': DEMO_PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    router.on('GET', f.path, (req, res) => {
      if (matchesEtag(req, etag)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': f.type, 'content-length': body.length });
      res.end(body); // HEAD: node:http sends the headers only
    });
  }
}
