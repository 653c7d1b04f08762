/**
 * GET /ws?user_id=U[&last_event_id=ID] — WebSocket streams beside SSE (the `ws` package in
 * noServer mode, on the edge's own http server's 'upgrade' event). The same events with the same
 * ids as GET /stream: one JSON text message per notification (edge/ws/ws-connection.ts), live
 * delivery, pings, rebalance and shutdown closes through the same connection registry.
 *
 * Before the upgrade, the request gets the same checks as GET /stream, answered as a plain HTTP
 * response on the socket (then closed) when one fails: user_id (400 with the JSON error body),
 * the user check of edge auth (401/403), and on the kafka profile the owning edge (307 to it with
 * the same path and query, or 503 + Retry-After while nobody owns the user's partition).
 * `last_event_id` (browsers cannot set headers on a WebSocket) replays from the inbox exactly
 * like SSE's Last-Event-ID (routes/resume.ts), then the stream goes live.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions } from 'ws';
import { HeraldError, isHeraldError } from '../../core/errors.ts';
import { redactUrl } from '../auth/access.ts';
import type { Logger } from '../../core/logger.ts';
import type { InboxStore } from '../../stores/types.ts';
import type { Router } from '../http/router.ts';
import type { ConnectionRegistry } from '../sse/connection-registry.ts';
import { queryParam, requireId } from '../validate.ts';
import { CLOSE_TRY_AGAIN_LATER, WsConnection } from '../ws/ws-connection.ts';
import { parseLastEventId, replayThenGoLive } from './resume.ts';
import type { StreamLocator } from './stream.ts';

/** Path of the WebSocket stream. */
export const WS_PATH = '/ws';

/**
 * Largest message a client may send, bytes. Clients send nothing but control frames (ping, pong,
 * close: at most 125 bytes each); a bigger frame closes the connection with 1009.
 */
export const WS_MAX_PAYLOAD = 1024;

/** How long a close handshake may take before the socket is destroyed, ms (ws default: 30 s). */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Checks that the request may read `userId`'s stream (edge auth: the user's token, from the
 * Authorization header or the `token` query parameter). Returns when allowed.
 * @throws HeraldError (HERALD_AUTH_*) when not; answered with its status before the upgrade
 */
export type AuthorizeUser = (req: IncomingMessage, url: URL, userId: string) => Promise<void> | void;

/** What the WebSocket endpoint needs from the edge. */
export interface WebSocketEndpointDeps {
  registry: ConnectionRegistry;
  inbox: InboxStore;
  logger: Logger;
  /** Reconnect delay suggested to clients (retry messages, Retry-After), ms. Default 1000. */
  retryMs?: number;
  /** Finds the edge that serves a user's stream (kafka profile); absent: this edge serves all. */
  locate?: StreamLocator;
  /** The user check of edge auth; absent: every user may be read (auth off). */
  authorizeUser?: AuthorizeUser;
}

/** Outcome of one upgrade request, for the HTTP metrics. */
export interface UpgradeOutcome {
  /** Route label: `GET /ws`, or `unmatched` for other paths. */
  route: string;
  /** HTTP status answered: 101 when upgraded; 499 when the client left before the answer. */
  status: number;
}

/** The /ws endpoint of one edge server. */
export interface WebSocketEndpoint {
  /**
   * Handles one 'upgrade' event of the edge's http server: upgrades a valid GET /ws request and
   * streams to it, or answers a plain HTTP error on the socket and closes it. Never rejects.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<UpgradeOutcome>;
  /** Refuses new upgrades from now on (503 + Retry-After): the edge is shutting down. */
  stopAccepting(): void;
  /** Destroys every WebSocket still open (shutdown deadline passed). */
  terminateAll(): void;
}

/**
 * Registers GET /ws for plain HTTP requests (no Upgrade header): they are answered 426 with
 * `Upgrade: websocket`, so a client that forgot to open a WebSocket is told so instead of 404.
 * @throws HeraldError HERALD_EDGE_UPGRADE_REQUIRED (from the handler)
 */
export function websocketRoutes(router: Router): void {
  router.on('GET', WS_PATH, (_req, res) => {
    res.setHeader('upgrade', 'websocket');
    throw new HeraldError('HERALD_EDGE_UPGRADE_REQUIRED', `${WS_PATH} is a WebSocket: open ws://<edge>${WS_PATH}?user_id=... (or use GET /stream for Server-Sent Events).`);
  });
}

/** Creates the /ws endpoint. Attach it with `server.on('upgrade', …)`. */
export function websocketEndpoint(deps: WebSocketEndpointDeps): WebSocketEndpoint {
  const retryMs = deps.retryMs ?? 1000;
  const log = deps.logger.child({ module: 'edge-ws' });
  // closeTimeout is a ws 8.19+ option that @types/ws 8.18 does not list yet.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: WS_MAX_PAYLOAD, clientTracking: true, closeTimeout: CLOSE_TIMEOUT_MS } as ServerOptions);
  let accepting = true;

  const handleUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<UpgradeOutcome> => {
    // A client that goes away while we look things up must not crash the process.
    socket.on('error', () => socket.destroy());
    let route = 'unmatched';
    try {
      const url = new URL(req.url ?? '/', 'http://edge');
      if (url.pathname !== WS_PATH) throw new HeraldError('HERALD_EDGE_NOT_FOUND', `No WebSocket endpoint at ${url.pathname}; WebSocket streams are at GET ${WS_PATH}?user_id=...`);
      route = `GET ${WS_PATH}`;
      if (req.method !== 'GET') throw new HeraldError('HERALD_EDGE_METHOD_NOT_ALLOWED', `${WS_PATH} accepts GET, not ${req.method}.`, { details: { allow: 'GET' } });
      if (!accepting) throw new HeraldError('HERALD_EDGE_UNAVAILABLE', 'Herald is stopping; reconnect shortly.');
      const userId = requireId(queryParam(url, 'user_id'), 'user_id', 'query');
      const lastEventId = parseLastEventId(queryParam(url, 'last_event_id'), 'last_event_id');

      // ── Auth: the one place where the /ws user check goes (before anything is revealed). ──
      await deps.authorizeUser?.(req, url, userId);

      if (deps.locate !== undefined) {
        const where = await deps.locate(userId);
        if (where.kind === 'redirect') {
          return { route, status: writeResponse(socket, 307, { location: `${where.url}${url.pathname}${url.search}`, 'cache-control': 'no-store' }, '') };
        }
        if (where.kind === 'unknown') {
          throw new HeraldError('HERALD_EDGE_UNAVAILABLE', `No edge serves user ${userId}'s partition yet (the edge consumer group is rebalancing); retry shortly.`);
        }
      }
      if (socket.destroyed || !socket.writable) return { route, status: 499 };

      let conn: WsConnection | undefined;
      // Synchronous without perMessageDeflate and verifyClient: the callback has run (101) or ws
      // has answered an invalid handshake (400) by the time it returns.
      wss.handleUpgrade(req, socket, head, (ws) => {
        (socket as Socket).setKeepAlive?.(true);
        ws.on('error', (err) => log.debug({ err, userId }, 'websocket error'));
        conn = deps.registry.register(new WsConnection(userId, ws, { maxBufferedBytes: deps.registry.options.maxBufferedBytes, retryMs }));
      });
      if (conn === undefined) return { route, status: 400 };
      const opened = conn;
      // Registered before the backlog is read, so live events meanwhile are queued, not lost.
      replayThenGoLive(opened, deps.inbox, userId, lastEventId).catch((err: unknown) => {
        log.warn({ err, userId }, 'websocket backlog failed; closing with a retry hint');
        opened.closeWith(CLOSE_TRY_AGAIN_LATER, retryMs);
      });
      return { route, status: 101 };
    } catch (err) {
      return { route, status: writeError(socket, err, retryMs, log, req) };
    }
  };

  return {
    handleUpgrade,
    stopAccepting() {
      accepting = false;
    },
    terminateAll() {
      for (const ws of wss.clients) ws.terminate();
    },
  };
}

/**
 * Answers a refused upgrade with an HTTP response on the raw socket, then closes it.
 * @returns `status`, or 499 when the client was already gone
 */
function writeResponse(socket: Duplex, status: number, headers: Record<string, string>, body: string): number {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return 499;
  }
  const all: Record<string, string> = { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
  const head = Object.entries(all).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n${head}\r\n\r\n${body}`);
  return status;
}

/** Answers an error like the JSON API does (`{"error":{code,message}}`, the code's status). */
function writeError(socket: Duplex, err: unknown, retryMs: number, log: Logger, req: IncomingMessage): number {
  const herald = isHeraldError(err) ? err : new HeraldError('HERALD_EDGE_INTERNAL', 'Internal error; the request may be retried.', { cause: err });
  if (herald.status >= 500 && herald.code !== 'HERALD_EDGE_UNAVAILABLE') log.error({ err, url: redactUrl(req.url) }, 'websocket upgrade failed');
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
  if (herald.code === 'HERALD_EDGE_UNAVAILABLE') headers['retry-after'] = String(Math.ceil(retryMs / 1000));
  if (herald.code === 'HERALD_EDGE_METHOD_NOT_ALLOWED') headers.allow = 'GET';
  if (herald.status === 401) headers['www-authenticate'] = 'Bearer realm="herald"'; // RFC 6750 §3, as on the other routes
  return writeResponse(socket, herald.status, headers, JSON.stringify(herald.toJSON()));
}
