/**
 * Which edge a request goes to, decided from its method, path and `user_id` alone (the router
 * never reads a body):
 *
 * - `user`: GET /stream, GET /ws and GET /notifications with a valid `user_id` go to the edge
 *   owning the user's partition (the stream must be served there; the inbox read is local to it).
 * - `local`: GET /healthz and GET /metrics are the router's own.
 * - `any`: everything else (POST /publish, POST/DELETE /subscribe, a missing or invalid
 *   `user_id`, unknown paths) goes to any live edge, which answers in its own words (400, 404,
 *   405 …), so routes the edges add later pass through the router unchanged.
 */
import { isValidId } from '../core/ids.ts';

/** Paths whose requests follow the user's partition. */
const USER_PATHS: ReadonlySet<string> = new Set(['/stream', '/ws', '/notifications']);
/** Paths of the edge API, for metric labels (anything else is labelled `other`). */
const KNOWN_PATHS: ReadonlySet<string> = new Set([...USER_PATHS, '/publish', '/subscribe', '/healthz', '/metrics']);
const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Where a request goes: see the module comment. */
export type RouteTarget = { kind: 'user'; userId: string } | { kind: 'any' } | { kind: 'local'; path: '/healthz' | '/metrics' };

/** A classified request. */
export interface RoutedRequest {
  /** Metric label: `METHOD /path` for the API's paths, `other` for the rest (bounded cardinality). */
  label: string;
  target: RouteTarget;
}

/**
 * Classifies a request.
 * @param method the request method (upper case, as node:http gives it)
 * @param url the parsed request URL (path and query)
 */
export function classify(method: string, url: URL): RoutedRequest {
  const path = url.pathname;
  const label = KNOWN_PATHS.has(path) && KNOWN_METHODS.has(method) ? `${method} ${path}` : 'other';
  if ((method === 'GET' || method === 'HEAD') && (path === '/healthz' || path === '/metrics')) return { label, target: { kind: 'local', path } };
  if ((method === 'GET' || method === 'HEAD') && USER_PATHS.has(path)) {
    const userId = url.searchParams.get('user_id');
    if (isValidId(userId)) return { label, target: { kind: 'user', userId } };
  }
  return { label, target: { kind: 'any' } };
}
