/**
 * A Server-Sent Events client for a cluster of edges that never gives up: it connects to a random
 * live edge, follows 307 redirects itself (to count them and keep Last-Event-ID), and on every
 * close or error reconnects — to any live edge — with `Last-Event-ID` set to the last event it
 * dispatched. 503 waits Retry-After; network errors and other statuses back off exponentially; a
 * stream silent for longer than `idleTimeoutMs` (no event, no ping) is dropped and reopened.
 *
 * It records every dispatched `notification` event, duplicates included, so a checker can tell
 * what the user saw across reconnects.
 */

/** One dispatched notification event. */
export interface StreamEvent {
  /** The SSE `id:` (the notification id). */
  id: string;
  /** Parsed `data:` (the notification JSON). */
  data: any;
  /** Which connection (1-based count of successful opens) delivered it. */
  connection: number;
  /** Edge base URL that served it. */
  edge: string;
}

/** Options of {@link ResilientStream}. */
export interface ResilientStreamOptions {
  userId: string;
  /** Base URLs of the edges believed alive (consulted on every (re)connect). */
  edges: () => readonly string[];
  /** Random source for edge choice and jitter (deterministic in tests when given). */
  random?: () => number;
  /** Drop a connection that received nothing (not even a ping) for this long, ms. Default 10 000. */
  idleTimeoutMs?: number;
  /** Max back-off after errors, ms. Default 2 000. */
  maxBackoffMs?: number;
  /** Max redirects followed per connect. Default 5. */
  maxRedirects?: number;
}

/** Connection statistics of one stream. */
export interface StreamStats {
  /** Successful opens (200 text/event-stream). */
  connects: number;
  /** 307s followed. */
  redirects: number;
  /** 503 answers (no edge owns the user's partition yet). */
  unavailable: number;
  /** Network errors, unexpected statuses, aborted reads. */
  errors: number;
  /** Streams the server ended cleanly (e.g. partition moved, edge stopping). */
  serverCloses: number;
  /** Streams dropped by the idle watchdog. */
  idleTimeouts: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** See the module comment. Starts connecting on construction. */
export class ResilientStream {
  readonly userId: string;
  readonly events: StreamEvent[] = [];
  readonly stats: StreamStats = { connects: 0, redirects: 0, unavailable: 0, errors: 0, serverCloses: 0, idleTimeouts: 0 };
  /** Last dispatched event id (sent as Last-Event-ID on reconnect). */
  lastEventId: string | undefined;
  /** Errors by kind, e.g. `connect ECONNREFUSED (after redirect)`, `read terminated`. */
  readonly errorKinds = new Map<string, number>();
  /** Last errors, newest last (diagnosis). */
  readonly recentErrors: string[] = [];
  readonly #o: Required<Omit<ResilientStreamOptions, 'userId'>>;
  #closed = false;
  #connected = false;
  #abort: AbortController | null = null;
  #retryMs = 1000;
  /** The SSE "last event ID buffer" (set by `id:` fields, kept across connections). */
  #idBuffer: string | undefined;
  readonly #done: Promise<void>;
  #onConnect: (() => void)[] = [];

  constructor(o: ResilientStreamOptions) {
    this.userId = o.userId;
    this.#o = { random: Math.random, idleTimeoutMs: 10_000, maxBackoffMs: 2_000, maxRedirects: 5, ...o };
    this.#done = this.#run();
  }

  /** True while a stream is open. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Reconnects after the first one. */
  get reconnects(): number {
    return Math.max(0, this.stats.connects - 1);
  }

  /** Event ids in arrival order. */
  ids(): string[] {
    return this.events.map((e) => e.id);
  }

  /** Resolves once a stream is open (now, if it is). */
  whenConnected(): Promise<void> {
    return this.#connected ? Promise.resolve() : new Promise((r) => this.#onConnect.push(r));
  }

  /** Stops for good. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort();
    await this.#done;
  }

  #error(kind: string, detail: string): void {
    this.stats.errors++;
    this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
    this.#note(detail);
  }

  #note(msg: string): void {
    this.recentErrors.push(`${new Date().toISOString()} ${msg}`);
    if (this.recentErrors.length > 20) this.recentErrors.shift();
  }

  #pickEdge(avoid?: string): string | undefined {
    const all = this.#o.edges();
    const preferred = all.length > 1 && avoid !== undefined ? all.filter((e) => e !== avoid) : all;
    return preferred[Math.floor(this.#o.random() * preferred.length)];
  }

  async #run(): Promise<void> {
    let failures = 0;
    let lastEdge: string | undefined;
    while (!this.#closed) {
      const base = this.#pickEdge(failures > 0 ? lastEdge : undefined);
      if (base === undefined) {
        await sleep(200);
        continue;
      }
      lastEdge = base;
      const outcome = await this.#connectOnce(base);
      if (this.#closed) return;
      if (outcome.kind === 'streamed') {
        failures = 0;
        // Like EventSource: wait the server's retry hint (plus jitter) before reconnecting.
        await sleep(Math.min(this.#retryMs, 1000) * (0.5 + this.#o.random() * 0.5));
      } else if (outcome.kind === 'unavailable') {
        failures++;
        await sleep(outcome.retryAfterMs * (0.5 + this.#o.random() * 0.5));
      } else {
        failures++;
        lastEdge = outcome.edge ?? lastEdge;
        const backoff = Math.min(this.#o.maxBackoffMs, 100 * 2 ** Math.min(failures - 1, 6));
        await sleep(backoff * (0.5 + this.#o.random() * 0.5));
      }
    }
  }

  async #connectOnce(
    base: string,
  ): Promise<{ kind: 'streamed' } | { kind: 'unavailable'; retryAfterMs: number } | { kind: 'error'; edge?: string }> {
    let url = `${base}/stream?user_id=${encodeURIComponent(this.userId)}`;
    const abort = new AbortController();
    this.#abort = abort;
    let res: Response | undefined;
    try {
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
        const connectTimer = setTimeout(() => abort.abort(new Error('connect timeout')), 10_000);
        try {
          res = await fetch(url, { headers, redirect: 'manual', signal: abort.signal });
        } finally {
          clearTimeout(connectTimer);
        }
        if (res.status !== 307 && res.status !== 308) break;
        await res.body?.cancel();
        const location = res.headers.get('location');
        if (location === null || hop >= this.#o.maxRedirects) {
          this.#error('redirect loop', `redirect without location or too many redirects at ${url}`);
          return { kind: 'error' };
        }
        this.stats.redirects++;
        url = new URL(location, url).toString();
      }
    } catch (err) {
      if (this.#closed) return { kind: 'streamed' };
      const e = err as Error & { cause?: { code?: string; message?: string } };
      this.#error(`connect ${e.cause?.code ?? e.name}${url.startsWith(base) ? '' : ' (after redirect)'}`, `connect ${url}: ${e.message} ${e.cause?.message ?? ''}`);
      return { kind: 'error', edge: new URL(url).origin };
    }
    const edge = new URL(url).origin;
    if (res.status === 503) {
      await res.body?.cancel();
      this.stats.unavailable++;
      const ra = Number(res.headers.get('retry-after'));
      return { kind: 'unavailable', retryAfterMs: Number.isFinite(ra) && ra > 0 ? ra * 1000 : 1000 };
    }
    if (res.status !== 200 || res.body === null) {
      const text = await res.text().catch(() => '');
      this.#error(`status ${res.status}`, `GET ${url} → ${res.status} ${text.slice(0, 200)}`);
      return { kind: 'error', edge };
    }
    this.stats.connects++;
    this.#idBuffer = this.lastEventId; // an id of an event cut off mid-frame never counts
    const connection = this.stats.connects;
    this.#connected = true;
    for (const r of this.#onConnect.splice(0)) r();
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        this.stats.idleTimeouts++;
        abort.abort(new Error('idle timeout'));
      }, this.#o.idleTimeoutMs);
    };
    arm();
    try {
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      let event = '';
      let data: string[] = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          let line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.endsWith('\r')) line = line.slice(0, -1);
          if (line === '') {
            // Dispatch (WHATWG: an event without data is not dispatched).
            if (data.length > 0 && (event === '' || event === 'notification')) {
              const text = data.join('\n');
              let parsed: unknown;
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
              this.events.push({ id: this.#idBuffer ?? '', data: parsed, connection, edge });
              this.lastEventId = this.#idBuffer;
            }
            event = '';
            data = [];
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          let val = colon === -1 ? '' : line.slice(colon + 1);
          if (val.startsWith(' ')) val = val.slice(1);
          if (field === 'id') this.#idBuffer = val;
          else if (field === 'event') event = val;
          else if (field === 'data') data.push(val);
          else if (field === 'retry' && /^\d+$/.test(val)) this.#retryMs = Number(val);
        }
      }
      this.stats.serverCloses++;
    } catch (err) {
      if (!this.#closed && !(abort.signal.reason instanceof Error && abort.signal.reason.message === 'idle timeout')) {
        const e = err as Error & { cause?: { code?: string } };
        this.#error(`read ${e.cause?.code ?? e.message}`, `read ${edge}: ${e.message}`);
      }
    } finally {
      clearTimeout(idle);
      this.#connected = false;
      abort.abort();
    }
    return { kind: 'streamed' };
  }
}
