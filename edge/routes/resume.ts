/**
 * Resuming a stream from the inbox, shared by GET /stream (SSE) and GET /ws (WebSocket): the
 * client names the last notification it has (SSE: the `Last-Event-ID` header, or the
 * `last_event_id` query parameter that a browser WebSocket must use), the stream replays what the
 * user was delivered after it, in delivery order (seq), then goes live. The connection is
 * registered before the replay, so live events that arrive meanwhile are queued and written once
 * (no gap, no duplicate).
 */
import { HeraldError } from '../../core/errors.ts';
import type { InboxStore } from '../../stores/types.ts';
import type { StreamConnection } from '../sse/connection-registry.ts';

/** Notifications read from the inbox per backlog page. */
export const BACKLOG_PAGE = 500;

/** Longest Last-Event-ID accepted, characters (ids are 1-128 characters). */
const MAX_LAST_EVENT_ID = 128;

/**
 * Checks a Last-Event-ID value. Absent or empty means "no resume" (`''`).
 * @param name how the client sent it, for the message (`Last-Event-ID` or `last_event_id`)
 * @throws HeraldError HERALD_EDGE_QUERY_INVALID when longer than 128 characters
 */
export function parseLastEventId(raw: string | null | undefined, name: string): string {
  const value = raw ?? '';
  if (value.length > MAX_LAST_EVENT_ID) throw new HeraldError('HERALD_EDGE_QUERY_INVALID', `${name} must be a notification id.`);
  // Notification ids are lower-case UUIDs; UUIDs compare case-insensitively (RFC 9562 §4).
  return value.toLowerCase();
}

/**
 * Writes to `conn` (already registered, in its backlog phase) every notification `userId` was
 * delivered after `lastEventId` (none when it is `''`), a page of {@link BACKLOG_PAGE} at a time
 * and at the client's pace (waits for the transport to drain instead of buffering), then makes
 * it live. An id the user never received (e.g. expired) resumes from that id's time.
 * Returns early, without going live, when the connection closes.
 * @throws the inbox's error (HERALD_STORE_FAILED, …); the caller closes the connection
 */
export async function replayThenGoLive(conn: StreamConnection, inbox: InboxStore, userId: string, lastEventId: string): Promise<void> {
  if (lastEventId !== '') {
    let afterSeq: number | undefined;
    for (;;) {
      const { entries } = await inbox.readAfter(userId, lastEventId, BACKLOG_PAGE, afterSeq);
      for (const e of entries) {
        if (!conn.writeBacklog({ seq: e.seq, id: e.notification.id, json: JSON.stringify(e.notification) })) return;
        // A long backlog goes at the client's pace: wait for the socket instead of buffering it.
        if (conn.needsDrain) await conn.waitDrain();
      }
      if (entries.length < BACKLOG_PAGE) break;
      afterSeq = entries[entries.length - 1]!.seq;
    }
  }
  conn.goLive();
}
