/**
 * CORS (Fetch standard, "CORS protocol") for browser apps on other origins: an allowed `Origin`
 * gets `Access-Control-Allow-Origin` echoed (with `Vary: Origin`), and preflight `OPTIONS`
 * requests are answered here with the methods and headers the API uses. Credentials are bearer
 * tokens in a header or the query, never cookies, so `Allow-Credentials` is not sent. Small
 * enough to own: the `cors` package is Express middleware and unmaintained since 2018.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '../../core/errors.ts';
import { sendError } from './json.ts';

const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';
const ALLOW_HEADERS = 'authorization, content-type, idempotency-key, last-event-id';
const EXPOSE_HEADERS = 'location, retry-after';
/** How long a browser may cache a preflight answer, s. */
const MAX_AGE_SECONDS = 600;

/** Allowed origins: `*` (any) or exact `scheme://host[:port]` strings. */
export class CorsPolicy {
  readonly #any: boolean;
  readonly #origins: Set<string>;

  constructor(origins: readonly string[]) {
    this.#any = origins.includes('*');
    this.#origins = new Set(origins.filter((o) => o !== '*'));
  }

  /**
   * Whether a request with this `Origin` may open a WebSocket (browsers apply no CORS to
   * WebSockets, so the edge checks it): no Origin (not a browser), the same origin as the
   * request's Host, or an allowed origin.
   */
  allowsWebSocket(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || this.#any || this.#origins.has(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  /** Whether any origin is allowed at all (no CORS headers otherwise). */
  get enabled(): boolean {
    return this.#any || this.#origins.size > 0;
  }

  /**
   * Adds the CORS headers for an allowed origin. Returns true when the request was a preflight
   * and has been answered (204), so the caller must not route it.
   */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (origin === undefined || !this.enabled) return false;
    res.setHeader('vary', 'Origin');
    if (!this.#any && !this.#origins.has(origin)) {
      if (preflight) {
        sendError(res, new HeraldError('HERALD_EDGE_ORIGIN_NOT_ALLOWED', `Origin ${origin} is not allowed: add it to HERALD_CORS_ORIGINS.`));
        return true;
      }
      return false;
    }
    res.setHeader('access-control-allow-origin', this.#any ? '*' : origin);
    res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
    if (!preflight) return false;
    res.writeHead(204, {
      'access-control-allow-methods': ALLOW_METHODS,
      'access-control-allow-headers': ALLOW_HEADERS,
      'access-control-max-age': String(MAX_AGE_SECONDS),
      'content-length': '0',
    });
    res.end();
    return true;
  }
}
