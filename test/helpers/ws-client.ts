/**
 * A real WebSocket client (npm `ws`) for GET /ws that collects Herald's messages: notifications
 * (id + data), retry hints, pings and the close code.
 */
import WebSocket from 'ws';

/** One received notification message. */
export interface WsNotification {
  id: string;
  data: any;
}

/** A WebSocket stream and what it has received. */
export interface WsCollector {
  ws: WebSocket;
  notifications: WsNotification[];
  /** Notification ids in arrival order. */
  ids(): string[];
  /** `retry_ms` of every `{"type":"retry"}` message. */
  retries: number[];
  /** Ping frames received. */
  pings: number;
  /** Resolves when the connection is open; rejects with the HTTP status and body when refused. */
  opened: Promise<void>;
  /** Resolves with the close code once the connection closed. */
  closed: Promise<number>;
  close(): void;
}

/** A refused upgrade: the HTTP response the edge answered instead of 101. */
export class RefusedUpgrade extends Error {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  constructor(status: number, headers: Record<string, string | string[] | undefined>, body: string) {
    super(`upgrade refused: ${status} ${body}`);
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

/**
 * Opens `GET /ws?user_id=…` (plus `last_event_id` when given, plus any `extra` query parameters).
 * @param base the edge's http:// URL
 */
export function openWs(base: string, userId: string, lastEventId?: string, extra: Record<string, string> = {}): WsCollector {
  const q = new URLSearchParams({ user_id: userId, ...(lastEventId ? { last_event_id: lastEventId } : {}), ...extra });
  return openWsUrl(`${base.replace(/^http/, 'ws')}/ws?${q}`);
}

/** Opens a WebSocket on a full ws:// URL (for invalid queries). */
export function openWsUrl(url: string): WsCollector {
  const ws = new WebSocket(url);
  const notifications: WsNotification[] = [];
  const retries: number[] = [];
  const collector: WsCollector = {
    ws,
    notifications,
    ids: () => notifications.map((n) => n.id),
    retries,
    pings: 0,
    opened: new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => reject(new RefusedUpgrade(res.statusCode ?? 0, res.headers, body)));
      });
      ws.once('error', reject);
    }),
    closed: new Promise<number>((resolve) => ws.once('close', (code) => resolve(code))),
    close: () => ws.close(),
  };
  collector.opened.catch(() => {}); // callers that expect a refusal await it themselves
  ws.on('ping', () => collector.pings++);
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as { type: string; id?: string; data?: unknown; retry_ms?: number };
    if (msg.type === 'notification') notifications.push({ id: msg.id!, data: msg.data });
    else if (msg.type === 'retry') retries.push(msg.retry_ms!);
  });
  return collector;
}
