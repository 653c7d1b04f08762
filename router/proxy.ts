/**
 * Forwarding one request to one edge over node:http(s), streaming both ways without buffering:
 * the request body is piped to the edge once the connection is up, the answer is piped back as
 * it arrives (an SSE stream flushes event by event; no timeout is set on either side), and a
 * WebSocket upgrade becomes two piped sockets.
 *
 * Headers pass through (Authorization, Last-Event-ID, cookies …) except the hop-by-hop ones
 * (RFC 9110 §7.6.1: Connection and the headers it names, Keep-Alive, TE, Trailer,
 * Transfer-Encoding, Upgrade, Proxy-*); X-Forwarded-For gets the client's address appended, and
 * X-Forwarded-Host / X-Forwarded-Proto are set when absent.
 *
 * The caller decides what to do when the edge cannot take the request; the outcome says whether
 * anything reached the edge (`unreachable`: nothing did, the request can go elsewhere) or not
 * (`failed`: it may have taken effect), and whether anything was sent to the client.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { HeraldError } from '../core/errors.ts';

/** Options of {@link forwardRequest} and {@link forwardUpgrade}. */
export interface ForwardOptions {
  /** Connection pools for http: and https: edges (keep-alive). */
  agents: { http: http.Agent; https: https.Agent };
  /** Max time to open a TCP connection to the edge, ms; then the edge counts as unreachable. */
  connectTimeoutMs: number;
  /**
   * True: a 307/308 answer is not relayed but drained and reported as `redirected` (the edge no
   * longer owns the user's partition; the caller re-resolves). Only for requests without a body.
   */
  interceptRedirects: boolean;
}

/**
 * What became of a forwarded request.
 * - `relayed`: the edge answered; its status and headers were sent to the client and the body
 *   is being piped (`upstream` is the edge's response or, after an upgrade, the edge's socket;
 *   destroy it to cut the stream).
 * - `redirected`: the edge answered 307/308 and {@link ForwardOptions.interceptRedirects} was
 *   set; nothing was sent to the client.
 * - `unreachable`: no connection to the edge (refused, timed out, reset before the request was
 *   sent); nothing reached the edge, nothing was sent to the client.
 * - `failed`: the connection broke after the request went out, before an answer; the request may
 *   have taken effect; nothing was sent to the client.
 * - `aborted`: the client went away before the edge answered.
 */
export type ForwardOutcome =
  | { kind: 'relayed'; status: number; upstream: Readable }
  | { kind: 'redirected'; location: string | null }
  | { kind: 'unreachable'; error: Error }
  | { kind: 'failed'; error: Error }
  | { kind: 'aborted' };

/** Hop-by-hop headers (never forwarded as they are). */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** True when the request has a body to forward (Content-Length > 0 or a Transfer-Encoding). */
export function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
}

/** `headers` without the hop-by-hop ones and those the Connection header names. */
function endToEnd(headers: http.IncomingHttpHeaders, drop: readonly string[] = []): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The headers sent to the edge: end-to-end headers + X-Forwarded-*; Host is the edge's. */
function upstreamHeaders(req: http.IncomingMessage, upgrade: boolean): http.OutgoingHttpHeaders {
  // Expect: 100-continue was answered by this server already (node:http does it).
  const out = endToEnd(req.headers, ['host', 'expect']);
  const client = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  if (req.headers['x-forwarded-host'] === undefined && req.headers.host !== undefined) out['x-forwarded-host'] = req.headers.host;
  if (req.headers['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = 'http';
  // A chunked body stays chunked (node re-chunks what it forwards).
  if (req.headers['transfer-encoding'] !== undefined) out['transfer-encoding'] = 'chunked';
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = req.headers.upgrade ?? 'websocket';
  }
  return out;
}

/** Opens the request to `edge` (an origin, e.g. http://10.0.0.5:8080) for the client's path and query. */
function openUpstream(req: http.IncomingMessage, edge: string, o: ForwardOptions, upgrade: boolean): http.ClientRequest {
  const base = new URL(edge);
  const secure = base.protocol === 'https:';
  const path = req.url?.startsWith('/') ? req.url : '/';
  return (secure ? https : http).request({
    protocol: base.protocol,
    hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: base.port === '' ? (secure ? 443 : 80) : Number(base.port),
    method: req.method ?? 'GET',
    path,
    headers: upstreamHeaders(req, upgrade),
    agent: secure ? o.agents.https : o.agents.http,
  });
}

/**
 * Calls `begin` once the socket to the edge is connected (at once for a pooled keep-alive socket);
 * destroys the request with an ETIMEDOUT error when the connection takes longer than `timeoutMs`.
 * @returns a function telling whether the connection was up (anything may have reached the edge)
 */
function onConnected(upReq: http.ClientRequest, timeoutMs: number, begin: () => void): () => boolean {
  let connected = false;
  upReq.once('socket', (socket) => {
    const go = () => {
      connected = true;
      begin();
    };
    if (!socket.connecting) return go();
    const timer = setTimeout(() => upReq.destroy(Object.assign(new Error(`connect timeout after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      go();
    });
    socket.once('close', () => clearTimeout(timer));
  });
  return () => connected;
}

/**
 * The once-only outcome of one forward: the first `settle` resolves, later ones are ignored;
 * the client going away first destroys the upstream request and settles `aborted`.
 */
function settleOnce(client: Duplex | http.ServerResponse, upReq: http.ClientRequest, resolve: (outcome: ForwardOutcome) => void): { settle(outcome: ForwardOutcome): void; readonly settled: boolean } {
  let settled = false;
  const settle = (outcome: ForwardOutcome) => {
    if (settled) return;
    settled = true;
    client.off('close', onClientGone);
    resolve(outcome);
  };
  const onClientGone = () => {
    upReq.destroy();
    settle({ kind: 'aborted' });
  };
  client.once('close', onClientGone);
  return {
    settle,
    get settled() {
      return settled;
    },
  };
}

/** With `interceptRedirects`, settles an edge's 307/308 as `redirected` (body drained). @returns whether it did */
function interceptedRedirect(upRes: http.IncomingMessage, status: number, o: ForwardOptions, settle: (outcome: ForwardOutcome) => void): boolean {
  if (!o.interceptRedirects || (status !== 307 && status !== 308)) return false;
  upRes.resume();
  settle({ kind: 'redirected', location: upRes.headers.location ?? null });
  return true;
}

/**
 * Forwards `req` to `edge` and relays the answer to `res` (see the module comment).
 * Never rejects; see {@link ForwardOutcome} for what the caller may still do with `res`.
 * @param edge the edge's origin, e.g. `http://10.0.0.5:8080`
 */
export function forwardRequest(req: http.IncomingMessage, res: http.ServerResponse, edge: string, o: ForwardOptions): Promise<ForwardOutcome> {
  if (res.destroyed) return Promise.resolve({ kind: 'aborted' }); // the client left while the edge was resolved
  return new Promise<ForwardOutcome>((resolve) => {
    const upReq = openUpstream(req, edge, o, false);
    const once = settleOnce(res, upReq, resolve);
    const withBody = hasBody(req);
    const connected = onConnected(upReq, o.connectTimeoutMs, () => {
      if (withBody) req.pipe(upReq);
      else upReq.end();
    });
    upReq.on('error', (error) => {
      if (withBody) req.unpipe(upReq);
      // Once relaying, the response pipeline ends the client's side.
      once.settle(connected() ? { kind: 'failed', error } : { kind: 'unreachable', error });
    });
    upReq.once('response', (upRes) => {
      if (once.settled) return void upRes.destroy();
      const status = upRes.statusCode ?? 502;
      if (interceptedRedirect(upRes, status, o, once.settle)) return;
      once.settle({ kind: 'relayed', status, upstream: upRes });
      res.writeHead(status, upRes.statusMessage, endToEnd(upRes.headers));
      res.flushHeaders(); // an SSE stream's headers go out before its first event
      // No timeouts: a stream lasts as long as the edge or the client keeps it. Either side
      // closing destroys the other (the edge frees the stream when the client leaves).
      pipeline(upRes, res, () => {
        upReq.destroy();
      });
    });
  });
}

/** An HTTP/1.1 response head as raw bytes (for a socket taken over by an upgrade). */
function rawHead(status: number, message: string, headers: [string, string][]): string {
  return `HTTP/1.1 ${status} ${message}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** Pairs of a raw header list ([k, v, k, v, …]). */
function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/**
 * Answers an upgrade request on its raw socket with a Herald JSON error and closes the socket.
 * @param headers extra headers, e.g. `{ 'retry-after': '1' }`
 */
export function rejectUpgrade(socket: Duplex, err: HeraldError, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(err.toJSON());
  const head = rawHead(err.status, http.STATUS_CODES[err.status] ?? 'Error', [
    ['content-type', 'application/json; charset=utf-8'],
    ['content-length', String(Buffer.byteLength(body))],
    ['cache-control', 'no-store'],
    ...Object.entries(headers),
    ['connection', 'close'],
  ]);
  socket.end(head + body);
}

/**
 * Forwards a WebSocket (or any HTTP/1.1) upgrade request to `edge`. On 101 the edge's answer is
 * written to the client socket and the two sockets are piped both ways until either closes; any
 * other answer is relayed on the raw socket, which is then closed.
 * Never rejects; the outcome's `relayed.upstream` is the edge's socket after a 101.
 * @param head the first bytes after the client's request head (node:http's `upgrade` event)
 */
export function forwardUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, edge: string, o: ForwardOptions): Promise<ForwardOutcome> {
  if (socket.destroyed) return Promise.resolve({ kind: 'aborted' });
  return new Promise<ForwardOutcome>((resolve) => {
    const upReq = openUpstream(req, edge, o, true);
    const once = settleOnce(socket, upReq, resolve);
    const connected = onConnected(upReq, o.connectTimeoutMs, () => upReq.end());
    upReq.on('error', (error) => once.settle(connected() ? { kind: 'failed', error } : { kind: 'unreachable', error }));
    upReq.once('upgrade', (upRes, upSocket, upHead) => {
      if (once.settled) return void upSocket.destroy();
      once.settle({ kind: 'relayed', status: 101, upstream: upSocket });
      socket.write(rawHead(101, upRes.statusMessage ?? 'Switching Protocols', pairs(upRes.rawHeaders)));
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      upSocket.setNoDelay(true);
      upSocket.setTimeout(0);
      const closeBoth = () => {
        upSocket.destroy();
        socket.destroy();
      };
      upSocket.on('error', closeBoth).on('close', closeBoth);
      socket.on('error', closeBoth).on('close', closeBoth);
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    upReq.once('response', (upRes) => {
      if (once.settled) return void upRes.destroy();
      const status = upRes.statusCode ?? 502;
      if (interceptedRedirect(upRes, status, o, once.settle)) return;
      once.settle({ kind: 'relayed', status, upstream: upRes });
      // The body is relayed decoded and framed by the closing of the connection.
      const headers = Object.entries(endToEnd(upRes.headers, ['content-length'])).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, String(v)] as [string, string]]));
      socket.write(rawHead(status, upRes.statusMessage ?? '', [...headers, ['connection', 'close']]));
      pipeline(upRes, socket, () => {
        upReq.destroy();
        socket.destroy();
      });
    });
  });
}
