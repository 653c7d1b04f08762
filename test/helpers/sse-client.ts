/**
 * A real EventSource client (npm `eventsource`, WHATWG-compatible) that collects Herald's
 * `notification` events, optionally resuming with a Last-Event-ID header.
 */
import { EventSource } from 'eventsource';

/** One received notification event. */
export interface ReceivedEvent {
  lastEventId: string;
  data: any;
}

/** A connected stream and what it has received. */
export interface StreamCollector {
  events: ReceivedEvent[];
  ids(): string[];
  /** Resolves when the connection is open. */
  opened: Promise<void>;
  close(): void;
}

/**
 * Opens GET /stream for `userId`.
 * @param lastEventId sent as the Last-Event-ID header of the first request
 */
export function openStream(base: string, userId: string, lastEventId?: string): StreamCollector {
  const events: ReceivedEvent[] = [];
  const es = new EventSource(`${base}/stream?user_id=${encodeURIComponent(userId)}`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: { ...(init?.headers as Record<string, string>), ...(lastEventId && !(init?.headers as Record<string, string>)?.['Last-Event-ID'] ? { 'Last-Event-ID': lastEventId } : {}) },
      }),
  });
  const opened = new Promise<void>((resolve, reject) => {
    es.addEventListener('open', () => resolve(), { once: true });
    es.addEventListener('error', (e) => reject(new Error(`stream error: ${(e as any).message ?? 'unknown'}`)), { once: true });
  });
  es.addEventListener('notification', (e) => {
    events.push({ lastEventId: e.lastEventId, data: JSON.parse(e.data) });
  });
  return {
    events,
    ids: () => events.map((e) => e.lastEventId),
    opened,
    close: () => es.close(),
  };
}
