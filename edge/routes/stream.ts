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

/** Notifications read from the inbox per backlog page. */
const BACKLOG_PAGE = 500;

/** Registers GET /stream. `retryMs` is the reconnect delay suggested to clients. */
export function streamRoutes(router: Router, registry: ConnectionRegistry, inbox: InboxStore, retryMs = 1000): void {
  router.on('GET', '/stream', async (req, res, url) => {
    const userId = requireId(queryParam(url, 'user_id'), 'user_id', 'query');
    const header = req.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) ?? queryParam(url, 'last_event_id') ?? '';
    if (lastEventId.length > 128) throw new HeraldError('HERALD_EDGE_QUERY_INVALID', 'Last-Event-ID must be a notification id.');

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
    if (lastEventId !== '') {
      let afterSeq: number | undefined;
      for (;;) {
        const { entries } = await inbox.readAfter(userId, lastEventId, BACKLOG_PAGE, afterSeq);
        for (const e of entries) {
          if (!conn.writeBacklog({ seq: e.seq, id: e.notification.id, json: JSON.stringify(e.notification) })) return;
          // A long backlog goes at the client's pace: wait for the socket instead of buffering it.
          if (conn.needsDrain) await new Promise<void>((resolve) => {
            const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
            res.on('drain', done);
            res.on('close', done);
          });
        }
        if (entries.length < BACKLOG_PAGE) break;
        afterSeq = entries[entries.length - 1]!.seq;
      }
    }
    conn.goLive();
  });
}
