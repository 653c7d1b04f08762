/**
 * GET /notifications?user_id=U[&since=T][&limit=N][&cursor=C] →
 * 200 `{"notifications":[...],"next_cursor":string|null}`, oldest first.
 */
import { HeraldError } from '../../core/errors.ts';
import type { Router } from '../http/router.ts';
import { sendJson } from '../http/json.ts';
import { parseLimit, parseSince, queryParam, requireId } from '../validate.ts';
import type { InboxQuery, InboxStore } from '../../stores/types.ts';

/** Page size of GET /notifications: default and max. */
export const NOTIFICATIONS_LIMIT = { default: 100, max: 1000 } as const;

/** Accepted query parameters (`token`: the user token, read by edge/auth). */
const QUERY_KEYS = new Set(['user_id', 'since', 'limit', 'cursor', 'token']);

/** Registers GET /notifications. */
export function notificationRoutes(router: Router, inbox: InboxStore): void {
  router.on('GET', '/notifications', async (_req, res, url) => {
    for (const k of url.searchParams.keys()) {
      if (!QUERY_KEYS.has(k)) throw new HeraldError('HERALD_EDGE_QUERY_INVALID', `Unknown query parameter ${JSON.stringify(k)}; accepted: user_id, since, limit, cursor, token.`);
    }
    const userId = requireId(queryParam(url, 'user_id'), 'user_id', 'query');
    const query: InboxQuery = { limit: parseLimit(queryParam(url, 'limit'), NOTIFICATIONS_LIMIT.default, NOTIFICATIONS_LIMIT.max) };
    const since = queryParam(url, 'since');
    if (since !== null) query.sinceMs = parseSince(since);
    const cursor = queryParam(url, 'cursor');
    if (cursor !== null) query.cursor = cursor;
    sendJson(res, 200, await inbox.list(userId, query));
  });
}
