/**
 * One WebSocket stream (GET /ws), the second transport of the connection registry beside SSE.
 * Same events, same ids, same order, same bounded buffer; only the framing differs.
 *
 * Messages from the server, one JSON text frame each:
 * - `{"type":"notification","id":"<notification id>","data":<Notification JSON>}`: `data` is
 *   byte for byte the `data:` of the SSE event;
 * - `{"type":"retry","retry_ms":N}`: the last message before the server closes the stream on
 *   purpose (rebalance, shutdown: close code 1012; too slow, or the backlog could not be read:
 *   1013). Reconnect after N ms with `last_event_id` = the last notification id received.
 * Keep-alive: WebSocket ping frames on the registry's interval (HERALD_SSE_PING_MS); a client that
 * answers no ping for two intervals is dropped. Clients send nothing else (messages are ignored).
 */
import { WebSocket } from 'ws';
import { counter } from '../../core/metrics.ts';
import { BufferedConnection, type ConnectionMetrics, type LiveEvent } from '../sse/connection-registry.ts';

const wsMetrics: ConnectionMetrics = {
  eventsSent: counter('herald_ws_events_sent_total', 'Notification messages written to WebSocket streams.'),
  overflowClosed: counter('herald_ws_overflow_closed_total', 'WebSocket streams closed because the client read too slowly.'),
};

/** Close code 1000: closed without a reconnect hint. */
export const CLOSE_NORMAL = 1000;
/** Close code 1012 (Service Restart): shutdown, or the user's partition moved; reconnect. */
export const CLOSE_SERVICE_RESTART = 1012;
/** Close code 1013 (Try Again Later): the client read too slowly, or the backlog read failed. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * How long a client dropped for reading too slowly gets to take its retry message and close
 * frame (queued behind what it has not read) before its socket is destroyed, ms. Bounds how long
 * its buffer (at most maxBufferedBytes plus a few bytes) is held.
 */
export const OVERFLOW_CLOSE_GRACE_MS = 1000;

/** Unsent bytes from which the backlog writer waits for the socket (like a socket's highWaterMark). */
const DRAIN_BYTES = 16 * 1024;

/** Pings in a row without a pong after which the client is considered gone. */
const MAX_MISSED_PONGS = 2;

/** The message of one notification. `json` is the Notification JSON (one line). */
export function notificationMessage(id: string, json: string): string {
  return `{"type":"notification","id":${JSON.stringify(id)},"data":${json}}`;
}

/** The message that tells the client to reconnect after `ms` milliseconds. */
export function retryMessage(ms: number): string {
  return `{"type":"retry","retry_ms":${Math.max(0, Math.floor(ms))}}`;
}

/** Options of {@link WsConnection}. */
export interface WsConnectionOptions {
  /** Unsent bytes (`ws.bufferedAmount`) a live write may leave before the stream is dropped. */
  maxBufferedBytes: number;
  /** Reconnect delay sent when the stream is dropped for reading too slowly, ms. */
  retryMs: number;
}

/** One open WebSocket stream; `ws` must be open. */
export class WsConnection extends BufferedConnection {
  override readonly transport = 'ws';
  readonly ws: WebSocket;
  readonly #retryMs: number;
  /** Sends whose data the socket has not yet taken (their callback has not run). */
  #unflushed = 0;
  #drainWaiters: (() => void)[] = [];
  #missedPongs = 0;
  /** Close code of the next close: 1012 unless {@link closeWith} says otherwise. */
  #closeCode = CLOSE_SERVICE_RESTART;
  readonly #onSent = (): void => {
    if (--this.#unflushed === 0) this.#wakeDrainWaiters();
  };

  constructor(userId: string, ws: WebSocket, options: WsConnectionOptions) {
    super(userId, options.maxBufferedBytes, wsMetrics);
    this.ws = ws;
    this.#retryMs = options.retryMs;
    // ws closes the socket itself after a protocol error (e.g. a frame above maxPayload); its
    // 'close' unregisters the stream. Without a listener the 'error' event would throw.
    ws.on('error', () => {});
    ws.on('pong', () => {
      this.#missedPongs = 0;
    });
    ws.on('close', () => this.#wakeDrainWaiters());
  }

  /** True when `ws.bufferedAmount` reached 16 KiB: the backlog writer should wait. */
  override get needsDrain(): boolean {
    return this.ws.bufferedAmount >= DRAIN_BYTES;
  }

  /** Resolves once the socket took every message sent so far (send callbacks), or on close. */
  override waitDrain(): Promise<void> {
    if (this.#unflushed === 0 || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Sends a ping frame; a client that answered none of the last two is terminated. */
  override ping(): void {
    if (this.closed) return;
    if (this.#missedPongs >= MAX_MISSED_PONGS) {
      this.ws.terminate();
      return;
    }
    this.#missedPongs++;
    this.ws.ping();
  }

  override onClose(listener: () => void): void {
    this.ws.on('close', listener);
  }

  /**
   * Closes with `code` (e.g. {@link CLOSE_TRY_AGAIN_LATER} when the backlog could not be read),
   * after a retry message when `retryMs` is given.
   */
  closeWith(code: number, retryMs?: number): void {
    this.#closeCode = code;
    this.close(retryMs);
  }

  protected override get transportClosed(): boolean {
    return this.ws.readyState !== WebSocket.OPEN;
  }

  protected override get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  protected override sendEvent(event: LiveEvent): void {
    this.#unflushed++;
    this.ws.send(notificationMessage(event.id, event.json), this.#onSent);
  }

  protected override closeTransport(retryMs: number | undefined): void {
    this.#goodbye(retryMs, retryMs === undefined && this.#closeCode === CLOSE_SERVICE_RESTART ? CLOSE_NORMAL : this.#closeCode);
  }

  protected override dropSlow(): void {
    // Memory stays bounded: nothing more is queued, and the socket (with what it holds) is
    // destroyed after a short grace if the client does not finish the close handshake.
    this.#goodbye(this.#retryMs, CLOSE_TRY_AGAIN_LATER);
    const timer = setTimeout(() => this.ws.terminate(), OVERFLOW_CLOSE_GRACE_MS);
    timer.unref();
    this.ws.once('close', () => clearTimeout(timer));
  }

  #goodbye(retryMs: number | undefined, code: number): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (retryMs !== undefined) this.ws.send(retryMessage(retryMs));
    this.ws.close(code);
  }

  #wakeDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
