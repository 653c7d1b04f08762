/**
 * Connected SSE streams of this edge, by user_id. Live delivery looks users up here; a user may
 * hold several connections (tabs, devices) and each gets every event. One interval pings every
 * connection (no per-connection timers).
 */
import type { ServerResponse } from 'node:http';
import { gauge, counter } from '../../core/metrics.ts';
import { PING_FRAME, notificationFrame, retryFrame } from './frame.ts';

const connectionsGauge = gauge('herald_sse_connections', 'Open SSE streams on this edge.');
const eventsSent = counter('herald_sse_events_sent_total', 'Notification events written to SSE streams.');
const overflowClosed = counter('herald_sse_overflow_closed_total', 'SSE streams closed because the client read too slowly.');

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

/** One open SSE stream. */
export class SseConnection {
  readonly userId: string;
  readonly res: ServerResponse;
  /** Highest seq written to this stream; live events at or below it are skipped (no duplicates). */
  lastSeq = -1;
  /** While the backlog is being written, live events wait here. */
  #pending: LiveEvent[] | null = [];
  #closed = false;
  readonly #maxBufferedBytes: number;

  constructor(userId: string, res: ServerResponse, maxBufferedBytes: number) {
    this.userId = userId;
    this.res = res;
    this.#maxBufferedBytes = maxBufferedBytes;
  }

  get closed(): boolean {
    return this.#closed || this.res.destroyed;
  }

  /**
   * Writes one backlog event (the caller waits for 'drain' when {@link needsDrain}) and advances
   * lastSeq. Returns false when the stream closed.
   */
  writeBacklog(event: LiveEvent): boolean {
    if (this.closed) return false;
    if (event.seq <= this.lastSeq) return true;
    this.res.write(notificationFrame(event.id, event.json));
    this.lastSeq = event.seq;
    eventsSent.inc();
    return true;
  }

  /** True when the socket's buffer is full and the backlog writer should wait for 'drain'. */
  get needsDrain(): boolean {
    return this.res.writableNeedDrain;
  }

  /** Writes one live event and advances lastSeq. Returns false when the stream closed. */
  write(event: LiveEvent): boolean {
    if (!this.writeBacklog(event)) return false;
    if (this.res.writableLength > this.#maxBufferedBytes) {
      // A reader this slow would not read a goodbye either: drop the socket and its buffer now
      // (memory stays bounded); the client reconnects and resumes from Last-Event-ID.
      overflowClosed.inc();
      this.#closed = true;
      this.res.destroy();
      return false;
    }
    return true;
  }

  /**
   * Delivers a live event: written now when live, queued while the backlog is written (a queue
   * past {@link MAX_PENDING_EVENTS} drops the stream; the client resumes by Last-Event-ID).
   */
  deliver(event: LiveEvent): void {
    if (this.#pending === null) {
      this.write(event);
    } else if (this.#pending.length < MAX_PENDING_EVENTS) {
      this.#pending.push(event);
    } else {
      overflowClosed.inc();
      this.#closed = true;
      this.#pending = [];
      this.res.destroy();
    }
  }

  /** Ends the backlog phase: writes queued live events newer than the backlog, then goes live. */
  goLive(): void {
    const pending = this.#pending ?? [];
    this.#pending = null;
    pending.sort((a, b) => a.seq - b.seq);
    for (const event of pending) if (!this.write(event)) return;
  }

  ping(): void {
    if (!this.closed) this.res.write(PING_FRAME);
  }

  /** Closes the stream, telling the client when to reconnect (ms). */
  close(retryMs?: number): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.res.destroyed) {
      if (retryMs !== undefined) this.res.write(retryFrame(retryMs));
      this.res.end();
    }
  }
}

/** Options of {@link ConnectionRegistry}. */
export interface ConnectionRegistryOptions {
  /** Interval of `: ping` comments, ms. */
  pingIntervalMs: number;
  /** Bytes a stream may have unsent before it is closed as too slow. */
  maxBufferedBytes: number;
  /** Called when a user's first stream on this edge opens (presence). */
  onUserConnected?: (userId: string) => void;
  /** Called when a user's last stream on this edge closes (presence). */
  onUserDisconnected?: (userId: string) => void;
}

/** All SSE streams of this edge by user. */
export class ConnectionRegistry {
  #byUser = new Map<string, Set<SseConnection>>();
  #count = 0;
  #timer: NodeJS.Timeout;
  readonly options: ConnectionRegistryOptions;

  constructor(options: ConnectionRegistryOptions) {
    this.options = options;
    this.#timer = setInterval(() => this.#pingAll(), options.pingIntervalMs);
    this.#timer.unref();
  }

  /** Number of open streams. */
  get size(): number {
    return this.#count;
  }

  /** Opens a stream for `userId` on `res` (headers already sent) and registers it. */
  add(userId: string, res: ServerResponse): SseConnection {
    const conn = new SseConnection(userId, res, this.options.maxBufferedBytes);
    let set = this.#byUser.get(userId);
    if (!set) {
      set = new Set();
      this.#byUser.set(userId, set);
      this.options.onUserConnected?.(userId);
    }
    set.add(conn);
    this.#count++;
    connectionsGauge.set(this.#count);
    res.on('close', () => this.remove(conn));
    return conn;
  }

  /** Unregisters a stream (idempotent). */
  remove(conn: SseConnection): void {
    const set = this.#byUser.get(conn.userId);
    if (!set || !set.delete(conn)) return;
    if (set.size === 0) {
      this.#byUser.delete(conn.userId);
      this.options.onUserDisconnected?.(conn.userId);
    }
    this.#count--;
    connectionsGauge.set(this.#count);
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
