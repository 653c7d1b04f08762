/**
 * Connected streams of this edge (SSE and WebSocket), by user_id. Live delivery looks users up
 * here; a user may hold several connections (tabs, devices, either transport) and each gets every
 * event. One interval pings every connection (no per-connection timers).
 *
 * Both transports share {@link BufferedConnection}: delivery by seq without duplicates, the
 * backlog phase with its queue of live events, and the bounded buffer whose overflow drops the
 * connection. A subclass only writes frames (SSE here, WebSocket in edge/ws/ws-connection.ts).
 */
import type { ServerResponse } from 'node:http';
import { gauge, counter } from '../../core/metrics.ts';
import { PING_FRAME, notificationFrame, retryFrame } from './frame.ts';

const connectionGauges = {
  sse: gauge('herald_sse_connections', 'Open SSE streams on this edge.'),
  ws: gauge('herald_ws_connections', 'Open WebSocket streams on this edge.'),
};
const sseMetrics: ConnectionMetrics = {
  eventsSent: counter('herald_sse_events_sent_total', 'Notification events written to SSE streams.'),
  overflowClosed: counter('herald_sse_overflow_closed_total', 'SSE streams closed because the client read too slowly.'),
};

/** Live events held for one stream while its backlog is written, at most. */
export const MAX_PENDING_EVENTS = 10_000;

/** One event ready to write: the user's delivery position and the frame text. */
export interface LiveEvent {
  /** Delivery position (user log offset); events are written in increasing seq order. */
  seq: number;
  id: string;
  /** The Notification JSON, one line. */
  json: string;
}

/** The transport of a stream: Server-Sent Events (GET /stream) or WebSocket (GET /ws). */
export type StreamTransport = 'sse' | 'ws';

/**
 * One open stream of one user, whatever its transport. The registry delivers live events, pings
 * and closes through this interface; the stream routes write the backlog through it.
 */
export interface StreamConnection {
  readonly userId: string;
  readonly transport: StreamTransport;
  /** True once the stream was closed (by us, by the client or by an overflow). */
  readonly closed: boolean;
  /** True when the transport's buffer is full: the backlog writer should {@link waitDrain}. */
  readonly needsDrain: boolean;
  /**
   * Writes one backlog event (events at or below the last written seq are skipped).
   * @returns false when the stream closed (stop writing)
   */
  writeBacklog(event: LiveEvent): boolean;
  /** Resolves when the transport's buffer drained or the stream closed. Never rejects. */
  waitDrain(): Promise<void>;
  /** A live event: written now when live, queued during the backlog phase. */
  deliver(event: LiveEvent): void;
  /** Ends the backlog phase: writes the queued live events newer than the backlog, in seq order. */
  goLive(): void;
  /** Keep-alive (SSE `: ping` comment, WebSocket ping frame). */
  ping(): void;
  /**
   * Closes the stream (idempotent). With `retryMs`, tells the client to reconnect after that
   * many ms (SSE `retry:` field, WebSocket `{"type":"retry"}` message and close code 1012).
   */
  close(retryMs?: number): void;
  /** Calls `listener` once the stream is closed, whoever closed it. */
  onClose(listener: () => void): void;
}

/** The counters a transport's connections report to. */
export interface ConnectionMetrics {
  /** Notification events written. */
  eventsSent: ReturnType<typeof counter>;
  /** Streams dropped because the client read too slowly. */
  overflowClosed: ReturnType<typeof counter>;
}

/**
 * What SSE and WebSocket streams share: delivery in seq order without duplicates, the backlog
 * phase (live events queue, at most {@link MAX_PENDING_EVENTS}), and the bounded buffer (more
 * than `maxBufferedBytes` unsent bytes after a live write drops the stream, so one slow client
 * never holds memory or delays the others; it resumes by Last-Event-ID). Subclasses write frames.
 */
export abstract class BufferedConnection implements StreamConnection {
  readonly userId: string;
  abstract readonly transport: StreamTransport;
  /** Highest seq written to this stream; live events at or below it are skipped (no duplicates). */
  lastSeq = -1;
  /** While the backlog is being written, live events wait here. */
  #pending: LiveEvent[] | null = [];
  #closed = false;
  readonly #maxBufferedBytes: number;
  readonly #metrics: ConnectionMetrics;

  /** @param maxBufferedBytes unsent bytes a live write may leave before the stream is dropped */
  constructor(userId: string, maxBufferedBytes: number, metrics: ConnectionMetrics) {
    this.userId = userId;
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#metrics = metrics;
  }

  get closed(): boolean {
    return this.#closed || this.transportClosed;
  }

  /**
   * Writes one backlog event (the caller waits with {@link waitDrain} when {@link needsDrain}) and
   * advances lastSeq. Returns false when the stream closed.
   */
  writeBacklog(event: LiveEvent): boolean {
    if (this.closed) return false;
    if (event.seq <= this.lastSeq) return true;
    this.sendEvent(event);
    this.lastSeq = event.seq;
    this.#metrics.eventsSent.inc();
    return true;
  }

  /** Writes one live event and advances lastSeq. Returns false when the stream closed. */
  write(event: LiveEvent): boolean {
    if (!this.writeBacklog(event)) return false;
    if (this.bufferedBytes > this.#maxBufferedBytes) {
      // A reader this slow cannot keep up: drop the stream and its buffer now (memory stays
      // bounded); the client reconnects and resumes from Last-Event-ID.
      this.#overflow();
      return false;
    }
    return true;
  }

  /**
   * Delivers a live event: written now when live, queued while the backlog is written (a queue
   * past {@link MAX_PENDING_EVENTS} drops the stream; the client resumes by Last-Event-ID).
   */
  deliver(event: LiveEvent): void {
    if (this.#closed) return;
    if (this.#pending === null) {
      this.write(event);
    } else if (this.#pending.length < MAX_PENDING_EVENTS) {
      this.#pending.push(event);
    } else {
      this.#overflow();
    }
  }

  /** Ends the backlog phase: writes queued live events newer than the backlog, then goes live. */
  goLive(): void {
    const pending = this.#pending ?? [];
    this.#pending = null;
    pending.sort((a, b) => a.seq - b.seq);
    for (const event of pending) if (!this.write(event)) return;
  }

  /** Closes the stream, telling the client when to reconnect (ms). Idempotent. */
  close(retryMs?: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeTransport(retryMs);
  }

  #overflow(): void {
    this.#metrics.overflowClosed.inc();
    this.#closed = true;
    this.#pending = [];
    this.dropSlow();
  }

  abstract get needsDrain(): boolean;
  abstract waitDrain(): Promise<void>;
  abstract ping(): void;
  abstract onClose(listener: () => void): void;
  /** True when the transport itself is gone (client disconnected, socket destroyed). */
  protected abstract get transportClosed(): boolean;
  /** Bytes written but not yet sent to the client. */
  protected abstract get bufferedBytes(): number;
  /** Writes the frame of one notification event. */
  protected abstract sendEvent(event: LiveEvent): void;
  /** Ends the transport gracefully, with a reconnect hint when `retryMs` is given. */
  protected abstract closeTransport(retryMs: number | undefined): void;
  /** Drops the transport of a client that reads too slowly (overflow); memory must be freed. */
  protected abstract dropSlow(): void;
}

/** One open SSE stream (GET /stream). */
export class SseConnection extends BufferedConnection {
  override readonly transport = 'sse';
  readonly res: ServerResponse;

  constructor(userId: string, res: ServerResponse, maxBufferedBytes: number) {
    super(userId, maxBufferedBytes, sseMetrics);
    this.res = res;
  }

  /** True when the socket's buffer is full and the backlog writer should wait for 'drain'. */
  override get needsDrain(): boolean {
    return this.res.writableNeedDrain;
  }

  /** Resolves on the response's 'drain' or 'close'. */
  override waitDrain(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  override ping(): void {
    if (!this.closed) this.res.write(PING_FRAME);
  }

  override onClose(listener: () => void): void {
    this.res.on('close', listener);
  }

  protected override get transportClosed(): boolean {
    return this.res.destroyed;
  }

  protected override get bufferedBytes(): number {
    return this.res.writableLength;
  }

  protected override sendEvent(event: LiveEvent): void {
    this.res.write(notificationFrame(event.id, event.json));
  }

  protected override closeTransport(retryMs: number | undefined): void {
    if (!this.res.destroyed) {
      if (retryMs !== undefined) this.res.write(retryFrame(retryMs));
      this.res.end();
    }
  }

  protected override dropSlow(): void {
    // A reader this slow would not read a goodbye either (its `retry:` came with the headers).
    this.res.destroy();
  }
}

/** Options of {@link ConnectionRegistry}. */
export interface ConnectionRegistryOptions {
  /** Interval of keep-alives (SSE `: ping` comments, WebSocket ping frames), ms. */
  pingIntervalMs: number;
  /** Bytes a stream (either transport) may have unsent before it is closed as too slow. */
  maxBufferedBytes: number;
  /** Called when a user's first stream on this edge opens (presence). */
  onUserConnected?: (userId: string) => void;
  /** Called when a user's last stream on this edge closes (presence). */
  onUserDisconnected?: (userId: string) => void;
}

/** All streams of this edge (SSE and WebSocket) by user. */
export class ConnectionRegistry {
  #byUser = new Map<string, Set<StreamConnection>>();
  #count: Record<StreamTransport, number> = { sse: 0, ws: 0 };
  #timer: NodeJS.Timeout;
  readonly options: ConnectionRegistryOptions;

  constructor(options: ConnectionRegistryOptions) {
    this.options = options;
    this.#timer = setInterval(() => this.#pingAll(), options.pingIntervalMs);
    this.#timer.unref();
  }

  /** Number of open streams, both transports. */
  get size(): number {
    return this.#count.sse + this.#count.ws;
  }

  /** Number of open streams of one transport. */
  sizeOf(transport: StreamTransport): number {
    return this.#count[transport];
  }

  /** Opens an SSE stream for `userId` on `res` (headers already sent) and registers it. */
  add(userId: string, res: ServerResponse): SseConnection {
    return this.register(new SseConnection(userId, res, this.options.maxBufferedBytes));
  }

  /**
   * Registers an open stream of any transport; it is unregistered when it closes. Live events
   * for its user reach it from now on (queued until its goLive).
   */
  register<C extends StreamConnection>(conn: C): C {
    let set = this.#byUser.get(conn.userId);
    if (!set) {
      set = new Set();
      this.#byUser.set(conn.userId, set);
      this.options.onUserConnected?.(conn.userId);
    }
    set.add(conn);
    this.#count[conn.transport]++;
    connectionGauges[conn.transport].set(this.#count[conn.transport]);
    conn.onClose(() => this.remove(conn));
    return conn;
  }

  /** Unregisters a stream (idempotent). */
  remove(conn: StreamConnection): void {
    const set = this.#byUser.get(conn.userId);
    if (!set || !set.delete(conn)) return;
    if (set.size === 0) {
      this.#byUser.delete(conn.userId);
      this.options.onUserDisconnected?.(conn.userId);
    }
    this.#count[conn.transport]--;
    connectionGauges[conn.transport].set(this.#count[conn.transport]);
  }

  /** Users with at least one open stream here. */
  users(): string[] {
    return [...this.#byUser.keys()];
  }

  /** True when the user has at least one open stream here. */
  isConnected(userId: string): boolean {
    return this.#byUser.has(userId);
  }

  /** Delivers one event to every stream of `userId`. */
  deliver(userId: string, event: LiveEvent): void {
    const set = this.#byUser.get(userId);
    if (!set) return;
    for (const conn of set) conn.deliver(event);
  }

  #pingAll(): void {
    for (const set of this.#byUser.values()) for (const conn of set) conn.ping();
  }

  /**
   * Closes the streams of every user `leaves` selects, with a retry hint (ms): their user
   * partition moved to another edge, so they reconnect and are redirected there.
   * @returns streams closed
   */
  closeUsers(leaves: (userId: string) => boolean, retryMs = 1000): number {
    let n = 0;
    for (const [userId, set] of [...this.#byUser]) {
      if (!leaves(userId)) continue;
      for (const conn of [...set]) {
        conn.close(retryMs);
        n++;
      }
    }
    return n;
  }

  /** Closes every stream with a retry hint (ms) and stops pinging. */
  closeAll(retryMs = 1000): void {
    clearInterval(this.#timer);
    for (const set of [...this.#byUser.values()]) for (const conn of [...set]) conn.close(retryMs);
  }
}
