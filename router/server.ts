/**
 * The router's HTTP server: answers GET /healthz and GET /metrics itself and proxies everything
 * else to an edge (router/routes.ts decides which, router/proxy.ts forwards).
 *
 * Per request, at most two tries:
 * - the edge answered 307 (it no longer owns the user's partition: ownership moved between the
 *   last refresh and this request): refresh the map, re-resolve, forward again;
 * - the edge could not be reached (nothing reached it): refresh, resolve again (a request without
 *   a user skips that edge for a while), forward again;
 * - the connection broke after a request without a body went out: the same (GET is safe to
 *   repeat); with a body: 502 HERALD_EDGE_UPSTREAM_FAILED (it may have taken effect).
 * No owner, or still no answer after two tries: 503 HERALD_EDGE_UNAVAILABLE with Retry-After.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import { HeraldError, isHeraldError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { registry as metricsRegistry } from '../core/metrics.ts';
import { listen } from '../edge/http/listen.ts';
import { sendError, sendJson } from '../edge/http/json.ts';
import { redirectsFollowed, routerRequests, upstreamErrors } from './metrics.ts';
import type { OwnerMap } from './owner-map.ts';
import { forwardRequest, forwardUpgrade, hasBody, rejectUpgrade, type ForwardOutcome } from './proxy.ts';
import { classify, type RouteTarget } from './routes.ts';

/** A network error's code (ECONNREFUSED, ETIMEDOUT …), else its message. */
function errorCode(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

/** The request's path without its query (which may carry a token): safe to log. */
function pathOf(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

/** What the router server needs. */
export interface RouterServerDeps {
  /** The partition → edge map requests are routed by. */
  owners: OwnerMap;
  /** Parent logger (the server logs as module `router`). */
  logger: Logger;
  /** Retry-After of 503 answers, seconds. Default 1. */
  retryAfterS?: number;
  /** Max time to connect to an edge, ms. Default 3000. */
  connectTimeoutMs?: number;
}

/** A running router server. */
export interface RouterServer {
  server: http.Server;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /**
   * Stops accepting; cuts the proxied streams and WebSockets (clients reconnect, to another
   * router), lets other requests finish for up to `drainMs` (default 5000), then closes the rest.
   */
  close(drainMs?: number): Promise<void>;
}

/**
 * Starts the router server on host:port (port 0 = any free port).
 * @throws HeraldError HERALD_CONFIG_INVALID when the address cannot be bound
 */
export async function startRouterServer(deps: RouterServerDeps, host: string, port: number): Promise<RouterServer> {
  const log = deps.logger.child({ module: 'router' });
  const retryAfter = String(deps.retryAfterS ?? 1);
  const forwarding = {
    agents: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
    connectTimeoutMs: deps.connectTimeoutMs ?? 3_000,
  };
  /** SSE streams and WebSockets being relayed (cut on close: they would never drain). */
  const relays = new Set<Readable>();
  let closing = false;

  const track = (outcome: ForwardOutcome): void => {
    if (outcome.kind !== 'relayed') return;
    const type = (outcome.upstream as Partial<http.IncomingMessage>).headers?.['content-type'] ?? '';
    if (outcome.status !== 101 && !type.startsWith('text/event-stream')) return;
    relays.add(outcome.upstream);
    outcome.upstream.once('close', () => relays.delete(outcome.upstream));
  };
  /** Counts and logs an edge that could not take a request, and leaves it out of the round-robin for a while. */
  const upstreamFailed = (outcome: { kind: 'unreachable' | 'failed'; error: Error }, edge: string): void => {
    upstreamErrors.inc({ kind: outcome.kind === 'unreachable' ? 'connect' : 'reset' });
    const code = errorCode(outcome.error);
    const what = outcome.kind === 'unreachable' ? 'edge unreachable' : 'edge dropped the connection before answering';
    if (deps.owners.markDown(edge)) log.warn({ edge, code }, what);
    else log.debug({ edge, code }, what);
  };
  const resolveEdge = (target: RouteTarget): Promise<string | null> => (target.kind === 'user' ? deps.owners.resolve(target.userId) : deps.owners.anyOwner());
  const noEdge = (target: RouteTarget, tried: boolean): HeraldError =>
    new HeraldError(
      'HERALD_EDGE_UNAVAILABLE',
      tried
        ? 'The edge for this request did not answer; edges are restarting or rebalancing. Retry shortly.'
        : target.kind === 'user'
          ? `No edge owns user ${target.userId}'s partition yet (the edge consumer group is rebalancing); retry shortly.`
          : 'No edge is available (none has claimed a user partition); retry shortly.',
    );

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, target: RouteTarget): Promise<void> => {
    if (target.kind === 'local') {
      if (target.path === '/metrics') {
        const text = await metricsRegistry.metrics();
        res.writeHead(200, { 'content-type': metricsRegistry.contentType });
        res.end(text);
        return;
      }
      const s = deps.owners.stats();
      if (closing || s.owners === 0) {
        res.setHeader('retry-after', retryAfter);
        throw new HeraldError('HERALD_EDGE_UNAVAILABLE', closing ? 'The router is stopping.' : 'The router knows no edge yet: no edge has claimed a user partition in Redis (start `herald edge` with the same HERALD_REDIS_URL and topology).');
      }
      sendJson(res, 200, { status: 'ok', owner_edges: s.owners, unowned_partitions: s.unownedPartitions, owner_map_age_ms: s.ageMs });
      return;
    }
    const bodiless = !hasBody(req);
    let tried = false;
    for (let attempt = 0; attempt < 2; attempt++) {
      const edge = await resolveEdge(target);
      if (edge === null) break;
      tried = true;
      const outcome = await forwardRequest(req, res, edge, { ...forwarding, interceptRedirects: bodiless && target.kind === 'user' });
      track(outcome);
      if (outcome.kind === 'relayed' || outcome.kind === 'aborted') return;
      if (outcome.kind === 'redirected') {
        redirectsFollowed.inc();
        log.debug({ edge, path: url.pathname }, 'edge redirected: ownership moved; re-resolving');
        await deps.owners.refresh(0);
        continue;
      }
      upstreamFailed(outcome, edge);
      if (outcome.kind === 'failed' && !bodiless) {
        // The body went out and is gone: repeating it is the client's call.
        throw new HeraldError('HERALD_EDGE_UPSTREAM_FAILED', `The edge's connection broke after the request was sent (${errorCode(outcome.error)}); it may have taken effect. Retry (a publish with the same Idempotency-Key).`, { cause: outcome.error });
      }
      await deps.owners.refresh();
    }
    res.setHeader('retry-after', retryAfter);
    throw noEdge(target, tried);
  };

  const server = http.createServer((req, res) => {
    let label = 'other';
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://router');
        const routed = classify(req.method ?? 'GET', url);
        label = routed.label;
        await handle(req, res, url, routed.target);
      } catch (err) {
        // The path only: a query may carry a user token (EventSource and WebSocket cannot set headers).
        const path = pathOf(req);
        if (!isHeraldError(err) || err.code === 'HERALD_EDGE_INTERNAL') log.error({ err, method: req.method, path }, 'request failed');
        else log.debug({ method: req.method, path, code: err.code, reason: err.message }, 'request refused');
        sendError(res, err);
      } finally {
        // Counted once the status is known (a stream when it opens, not when it ends); 499: the
        // client left before an answer.
        routerRequests.inc({ route: label, status: String(res.headersSent ? res.statusCode : 499) });
      }
    })();
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {}); // a client reset must not crash the router; closes are handled per outcome
    const url = new URL(req.url ?? '/', 'http://router');
    const { label, target } = classify(req.method ?? 'GET', url);
    /** Counts the request once its status is known (101: the WebSocket is open; 499: the client left). */
    const count = (status: number) => routerRequests.inc({ route: label, status: String(status) });
    const reject = (err: HeraldError) => {
      count(err.status);
      rejectUpgrade(socket, err, err.status === 503 ? { 'retry-after': retryAfter } : {});
    };
    void (async () => {
      if (target.kind === 'local') return reject(new HeraldError('HERALD_EDGE_NOT_FOUND', `${url.pathname} does not accept an upgrade.`));
      let tried = false;
      for (let attempt = 0; attempt < 2; attempt++) {
        const edge = await resolveEdge(target);
        if (edge === null) break;
        tried = true;
        const outcome = await forwardUpgrade(req, socket, head, edge, { ...forwarding, interceptRedirects: target.kind === 'user' });
        track(outcome);
        if (outcome.kind === 'relayed' || outcome.kind === 'aborted') return count(outcome.kind === 'relayed' ? outcome.status : 499);
        if (outcome.kind === 'redirected') {
          redirectsFollowed.inc();
          await deps.owners.refresh(0);
          continue;
        }
        upstreamFailed(outcome, edge); // an upgrade is a GET without a body: safe to repeat
        await deps.owners.refresh();
      }
      reject(noEdge(target, tried));
    })().catch((err: unknown) => {
      log.error({ err, path: pathOf(req) }, 'upgrade failed');
      reject(new HeraldError('HERALD_EDGE_INTERNAL', 'Internal error; the request may be retried.'));
    });
  });

  server.keepAliveTimeout = 65_000; // ms: longer than common load-balancer idle timeouts
  server.headersTimeout = 70_000; // ms
  server.requestTimeout = 0; // streams are long-lived
  const url = await listen(server, host, port);
  log.info({ url }, 'router listening');
  return {
    server,
    url,
    async close(drainMs = 5_000) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const r of relays) r.destroy();
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), drainMs);
      await closed;
      clearTimeout(timer);
      forwarding.agents.http.destroy();
      forwarding.agents.https.destroy();
    },
  };
}
