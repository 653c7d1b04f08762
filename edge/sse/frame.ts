/**
 * Server-Sent Events framing (WHATWG HTML, "Server-sent events", §9.2 event stream format).
 * Herald's notification events: `id: <notification id>`, `event: notification`,
 * `data: <Notification JSON>` (single line: JSON.stringify never emits raw newlines).
 */

/** The frame of one notification event. `json` must be one line of JSON. */
export function notificationFrame(id: string, json: string): string {
  return `id: ${id}\nevent: notification\ndata: ${json}\n\n`;
}

/** A comment line that keeps proxies and clients from timing the stream out. */
export const PING_FRAME = ': ping\n\n';

/** Tells the client how long to wait before reconnecting, ms. */
export function retryFrame(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}
