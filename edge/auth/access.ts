/**
 * Which credential each route needs (the edge's access table), applied once per request before
 * the route's handler runs:
 * - `publisher`: POST /publish, POST and DELETE /subscribe, POST /tokens; PUT, GET and DELETE
 *   /templates/:template_id; PUT and GET /topics/:topic_id/settings;
 * - `user`: GET /notifications, GET /notifications/:notification_id/deliveries, GET /stream,
 *   GET /ws, for the `user_id` of the query; GET and PUT /users/:user_id/channels and
 *   /users/:user_id/preferences, for the `user_id` of the path (the user's own token, so a
 *   browser can register its own push subscription; a publisher key also works there, as on
 *   every user route);
 * - everything else (/, /healthz, /metrics, static files) is public.
 */
import type { IncomingMessage } from 'node:http';
import type { EdgeAuth } from './edge-auth.ts';

/** Credential a route needs. */
export type RouteAccess = 'publisher' | 'user' | 'public';

/** Templates and topic settings: written and read by publishers only (they hold no user data). */
const TEMPLATE_ROUTES = [
  ...['GET', 'HEAD', 'PUT', 'DELETE'].map((m) => `${m} /templates/:template_id`),
  ...['GET', 'HEAD', 'PUT'].map((m) => `${m} /topics/:topic_id/settings`),
];
const PUBLISHER = new Set(['POST /publish', 'POST /subscribe', 'DELETE /subscribe', 'POST /tokens', ...TEMPLATE_ROUTES]);
const USER = new Set([
  'GET /notifications',
  'GET /stream',
  'GET /ws',
  'HEAD /notifications',
  'GET /notifications/:notification_id/deliveries',
  'HEAD /notifications/:notification_id/deliveries',
  'HEAD /stream',
  ...['GET', 'HEAD', 'PUT'].flatMap((m) => [`${m} /users/:user_id/channels`, `${m} /users/:user_id/preferences`]),
]);

/** The access rule of a route label (`METHOD /path`, as the router reports it). */
export function routeAccess(label: string): RouteAccess {
  if (PUBLISHER.has(label)) return 'publisher';
  if (USER.has(label)) return 'user';
  return 'public';
}

/**
 * Checks the request's credential for route `label`. The user of a user route is the `user_id`
 * path parameter when the route has one (`params`), else the `user_id` query parameter. A user
 * route without a `user_id` is left to the route, which answers 400 (it reads nothing).
 * @throws HeraldError HERALD_AUTH_* (see EdgeAuth)
 */
export async function authorize(auth: EdgeAuth, label: string, req: IncomingMessage, url: URL, params: Readonly<Record<string, string>> = {}): Promise<void> {
  const access = routeAccess(label);
  if (access === 'publisher') auth.requirePublisher(req);
  else if (access === 'user') {
    const userId = Object.hasOwn(params, 'user_id') ? params.user_id! : url.searchParams.get('user_id');
    if (userId !== null && userId !== '') await auth.requireUser(req, url, userId);
  }
}

/** A request URL fit for logs: the `token` query parameter (a user credential) replaced by `***`. */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined || !url.includes('token=')) return url;
  return url.replace(/([?&]token=)[^&#]*/g, '$1***');
}
