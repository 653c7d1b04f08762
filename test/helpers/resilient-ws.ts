/**
 * A WebSocket client of GET /ws for a cluster of edges that never gives up (the WebSocket twin of
 * resilient-sse.ts): it connects to a random live edge with `followRedirects` (307 to the owning
 * edge), and whenever the stream closes reconnects with `last_event_id` = the last notification
 * it received, after the `retry_ms` of the edge's last retry message (1 s by default). 503 waits
 * Retry-After; other refusals and network errors back off.
 *
 * It records every notification, duplicates included, and every close code, so a test can tell
 * what the user saw across reconnects and why streams closed.
 */
import WebSocket from 'ws';

/** One received notification. */
export interface WsStreamEvent {
  id: string;
  data: any;
  /** Which connection (1-based count of opens) delivered it. */
  connection: number;
  /** Edge (http://host:port) that served it. */
  edge: string;
}

/** Options of {@link ResilientWs}. */
export interface ResilientWsOptions {
  userId: string;
  /** Base URLs (http://) of the edges believed alive, consulted on every (re)connect. */
  edges: () => readonly string[];
  /** Max back-off after errors, ms. Default 2 000. */
  maxBackoffMs?: number;
}

/** Connection statistics of one stream. */
export interface WsStreamStats {
  /** Successful opens (101). */
  connects: number;
  /** 307s followed by the client. */
  redirects: number;
  /** 503 answers (no edge owns the user's partition yet). */
  unavailable: number;
  /** Network errors and other refusals. */
  errors: number;
  /** Close codes of opened streams, with counts (e.g. 1012 after a rebalance). */
  closeCodes: Map<number, number>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** See the module comment. Starts connecting on construction. */
export class ResilientWs {
  readonly userId: string;
  readonly events: WsStreamEvent[] = [];
  readonly stats: WsStreamStats = { connects: 0, redirects: 0, unavailable: 0, errors: 0, closeCodes: new Map() };
  /** Last notification id received (sent as last_event_id on reconnect). */
  lastEventId: string | undefined;
  /** Last errors, newest last (diagnosis). */
  readonly recentErrors: string[] = [];
  readonly #o: Required<ResilientWsOptions>;
  #closed = false;
  #ws: WebSocket | null = null;
  #connected = false;
  readonly #done: Promise<void>;

  constructor(o: ResilientWsOptions) {
    this.userId = o.userId;
    this.#o = { maxBackoffMs: 2_000, ...o };
    this.#done = this.#run();
  }

  /** True while a stream is open. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Notification ids in arrival order (duplicates included). */
  ids(): string[] {
    return this.events.map((e) => e.id);
  }

  /** Stops reconnecting and closes the stream. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#ws?.terminate();
    await this.#done;
  }

  async #run(): Promise<void> {
    let backoff = 100;
    while (!this.#closed) {
      const edges = this.#o.edges();
      const edge = edges[Math.floor(Math.random() * edges.length)]!;
      const q = new URLSearchParams({ user_id: this.userId, ...(this.lastEventId ? { last_event_id: this.lastEventId } : {}) });
      const outcome = await this.#connectOnce(`${edge.replace(/^http/, 'ws')}/ws?${q}`);
      if (this.#closed) return;
      if (outcome.kind === 'closed') {
        backoff = 100;
        await sleep(outcome.retryMs);
      } else if (outcome.kind === 'unavailable') {
        this.stats.unavailable++;
        await sleep(outcome.retryMs);
      } else {
        this.stats.errors++;
        this.recentErrors.push(outcome.error);
        if (this.recentErrors.length > 20) this.recentErrors.shift();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.#o.maxBackoffMs);
      }
    }
  }

  #connectOnce(url: string): Promise<{ kind: 'closed'; retryMs: number } | { kind: 'unavailable'; retryMs: number } | { kind: 'error'; error: string }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { followRedirects: true, maxRedirects: 5, handshakeTimeout: 10_000 });
      this.#ws = ws;
      let retryMs = 1000;
      let connection = 0;
      let edge = '';
      ws.on('redirect', () => this.stats.redirects++);
      ws.once('open', () => {
        this.#connected = true;
        connection = ++this.stats.connects;
        edge = new URL(ws.url).origin.replace(/^ws/, 'http');
      });
      ws.on('message', (raw) => {
        const msg = JSON.parse(String(raw)) as { type: string; id?: string; data?: unknown; retry_ms?: number };
        if (msg.type === 'retry') retryMs = msg.retry_ms!;
        else if (msg.type === 'notification') {
          this.events.push({ id: msg.id!, data: msg.data, connection, edge });
          this.lastEventId = msg.id!;
        }
      });
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        ws.terminate();
        if (status === 503) resolve({ kind: 'unavailable', retryMs: Number(res.headers['retry-after'] ?? '1') * 1000 });
        else resolve({ kind: 'error', error: `HTTP ${status}` });
      });
      ws.on('error', (err) => {
        if (!this.#connected) resolve({ kind: 'error', error: err.message });
      });
      ws.once('close', (code) => {
        if (!this.#connected) return resolve({ kind: 'error', error: `closed ${code} before open` });
        this.#connected = false;
        this.stats.closeCodes.set(code, (this.stats.closeCodes.get(code) ?? 0) + 1);
        resolve({ kind: 'closed', retryMs });
      });
    });
  }
}
