/**
 * GET /stream?user_id=U — Server-Sent Events. Each notification is one event with
 * `id: <notification id>` and `event: notification`. With a `Last-Event-ID` header (or the
 * `last_event_id` query parameter) the stream first replays, from the inbox, everything the user
 * was delivered after that id (in delivery order), then continues live: no gap, no duplicate.
 */
import type { Router } from '../http/router.ts';
import { HeraldError } from '../../core/errors.ts';
import { queryParam, requireId } from '../validate.ts';
import type { ConnectionRegistry } from '../sse/connection-registry.ts';
import type { InboxStore } from '../../stores/types.ts';
import { parseLastEventId, replayThenGoLive } from './resume.ts';

/**
 * Where a user's stream is served (kafka profile: the edge that owns the user's partition of the
 * user log). `here`: this edge; `redirect`: another edge's URL; `unknown`: no edge owns it yet.
 */
export type StreamLocation = { kind: 'here' } | { kind: 'redirect'; url: string } | { kind: 'unknown' };

/** Finds the edge of a user's stream. Absent on the embedded profile (one edge owns everything). */
export type StreamLocator = (userId: string) => Promise<StreamLocation>;

/**
 * Registers GET /stream. `retryMs` is the reconnect delay suggested to clients. With a `locate`
 * function, a stream whose user belongs to another edge is answered 307 to that edge (same path
 * and query; EventSource follows it), and 503 with Retry-After while no edge owns the partition.
 */
export function streamRoutes(router: Router, registry: ConnectionRegistry, inbox: InboxStore, retryMs = 1000, locate?: StreamLocator): void {
  router.on('GET', '/stream', async (req, res, url) => {
    const userId = requireId(queryParam(url, 'user_id'), 'user_id', 'query');
    if (locate !== undefined) {
      const where = await locate(userId);
      if (where.kind === 'redirect') {
        res.writeHead(307, { location: `${where.url}${url.pathname}${url.search}`, 'cache-control': 'no-store', 'content-length': '0' });
        res.end();
        return;
      }
      if (where.kind === 'unknown') {
        res.setHeader('retry-after', String(Math.ceil(retryMs / 1000)));
        throw new HeraldError('HERALD_EDGE_UNAVAILABLE', `No edge serves user ${userId}'s partition yet (the edge consumer group is rebalancing); retry shortly.`);
      }
    }
    const header = req.headers['last-event-id'];
    const lastEventId = parseLastEventId((Array.isArray(header) ? header[0] : header) ?? queryParam(url, 'last_event_id'), 'Last-Event-ID');

    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${retryMs}\n: connected\n\n`);

    // Register first, so live events that arrive while the backlog is read are queued, not lost.
    const conn = registry.add(userId, res);
    await replayThenGoLive(conn, inbox, userId, lastEventId);
  });
}
