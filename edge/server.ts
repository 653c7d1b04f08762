/**
 * The edge's HTTP server: the public API (subscribe, publish, notifications, stream), /healthz
 * and /metrics, and WebSocket upgrades of GET /ws (edge/routes/websocket.ts). node:http with a
 * small router; every response is JSON except the SSE stream, the Prometheus text and the demo
 * page at / (edge/routes/demo-page.ts).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.ts';
import { counter, histogram, registry as metricsRegistry } from '../core/metrics.ts';
import { HeraldError, isHeraldError } from '../core/errors.ts';
import { Router } from './http/router.ts';
import { sendError, sendJson } from './http/json.ts';
import { Publisher } from './publisher.ts';
import { subscriptionRoutes } from './routes/subscriptions.ts';
import { publishRoutes } from './routes/publish.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { streamRoutes, type StreamLocator } from './routes/stream.ts';
import { websocketEndpoint, websocketRoutes } from './routes/websocket.ts';
import { demoPageRoutes } from './routes/demo-page.ts';
import type { ConnectionRegistry } from './sse/connection-registry.ts';
import { authorize, challenge, redactUrl, type EdgeAuth } from './auth/index.ts';
import { CorsPolicy } from './http/cors.ts';
import { listen } from './http/listen.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { userChannelRoutes } from './routes/user-channels.ts';
import { templateRoutes } from './routes/templates.ts';
import { deliveryRoutes } from './routes/deliveries.ts';
import type { LogProducer } from '../log/types.ts';
import type { DeliveryStatusStore, IdempotencyStore, InboxStore, SubscriptionStore, TemplateStore, UserChannelStore } from '../stores/types.ts';

const requests = counter('herald_http_requests_total', 'HTTP requests by route and status.', ['route', 'status']);
const duration = histogram('herald_http_request_duration_seconds', 'HTTP request duration (SSE: until the stream is set up).', ['route'], [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
]);

/** What the edge needs from the rest of the process. */
export interface EdgeDeps {
  logger: Logger;
  subscriptions: SubscriptionStore;
  inbox: InboxStore;
  idempotency: IdempotencyStore;
  /** Users' channel settings and preferences (PUT/GET /users/{user_id}/channels, /preferences); absent: no such routes. */
  userChannels?: UserChannelStore;
  /** Notification templates and topic settings (/templates/{template_id}, /topics/{topic_id}/settings); absent: no such routes. */
  templates?: TemplateStore;
  /** Accept Web Push endpoints on loopback or private addresses (HERALD_PUSH_ALLOW_PRIVATE_ENDPOINTS; tests and development). */
  allowPrivatePushEndpoints?: boolean;
  /** Per-channel delivery statuses (GET /notifications/{notification_id}/deliveries); absent: no such route. */
  deliveryStatuses?: DeliveryStatusStore;
  producer: LogProducer;
  /** Name of the publish log topic. */
  publishLog: string;
  registry: ConnectionRegistry;
  /** Max message size, bytes. */
  maxMessageBytes: number;
  /** Finds the edge that serves a user's stream (kafka profile); absent: this edge serves all. */
  locateStream?: StreamLocator;
  /** True while the job runs (GET /healthz answers 200), false while starting or stopping. */
  isHealthy: () => boolean;
  /** Publisher keys and user tokens (edge/auth); absent or with no keys: auth is off. */
  auth?: EdgeAuth;
  /** Browser origins allowed by CORS (HERALD_CORS_ORIGINS); absent or empty: no CORS headers. */
  corsOrigins?: readonly string[];
}

/** A running edge HTTP server. */
export interface EdgeServer {
  server: http.Server;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Stops accepting, closes SSE and WebSocket streams with a retry hint, waits for requests to finish. */
  close(): Promise<void>;
}

/** Builds the router of the public API. */
export function createRouter(deps: EdgeDeps): Router {
  const router = new Router();
  const publisher = new Publisher({ producer: deps.producer, idempotency: deps.idempotency, publishLog: deps.publishLog, ...(deps.templates ? { templates: deps.templates } : {}) });
  subscriptionRoutes(router, deps.subscriptions);
  publishRoutes(router, publisher, deps.maxMessageBytes);
  notificationRoutes(router, deps.inbox);
  if (deps.userChannels) userChannelRoutes(router, deps.userChannels, deps.allowPrivatePushEndpoints ?? false);
  if (deps.templates) templateRoutes(router, deps.templates);
  if (deps.deliveryStatuses) deliveryRoutes(router, deps.deliveryStatuses);
  streamRoutes(router, deps.registry, deps.inbox, 1000, deps.locateStream);
  websocketRoutes(router); // plain GET /ws → 426; upgrades are handled in startEdgeServer
  if (deps.auth) tokenRoutes(router, deps.auth);
  demoPageRoutes(router); // GET / (edge/public/)
  router.on('GET', '/healthz', (_req, res) => {
    if (deps.isHealthy()) sendJson(res, 200, { status: 'ok', sse_connections: deps.registry.sizeOf('sse'), ws_connections: deps.registry.sizeOf('ws') });
    else sendError(res, new HeraldError('HERALD_EDGE_UNAVAILABLE', 'Herald is starting or stopping.'));
  });
  router.on('GET', '/metrics', async (_req, res) => {
    const text = await metricsRegistry.metrics();
    res.writeHead(200, { 'content-type': metricsRegistry.contentType });
    res.end(text);
  });
  return router;
}

/**
 * Starts the edge HTTP server on host:port (port 0 = any free port).
 * @throws the listen error (e.g. EADDRINUSE) with the port in the message
 */
export async function startEdgeServer(deps: EdgeDeps, host: string, port: number): Promise<EdgeServer> {
  const router = createRouter(deps);
  const log = deps.logger.child({ module: 'edge' });
  // GET /ws: WebSocket upgrades on this same server, same locate rule as GET /stream.
  const auth = deps.auth;
  const cors = new CorsPolicy(deps.corsOrigins ?? []);
  const websockets = websocketEndpoint({
    registry: deps.registry,
    inbox: deps.inbox,
    logger: deps.logger,
    retryMs: 1000,
    locate: deps.locateStream,
    // Browsers apply no CORS to WebSockets: refuse other origins here, then check the user.
    authorizeUser: async (req: http.IncomingMessage, url: URL, userId: string) => {
      if (!cors.allowsWebSocket(req)) throw new HeraldError('HERALD_EDGE_ORIGIN_NOT_ALLOWED', `Origin ${req.headers.origin ?? ''} may not open WebSockets here: add it to HERALD_CORS_ORIGINS.`);
      if (auth?.enabled) await auth.requireUser(req, url, userId);
    },
  });
  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    let label = 'unmatched';
    // 'close' also fires for streams the client ends, which never 'finish'.
    res.on('close', () => requests.inc({ route: label, status: String(res.statusCode) }));
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://edge');
        if (cors.apply(req, res)) return;
        const match = router.match(req.method ?? 'GET', url.pathname);
        label = match.label;
        if (deps.auth) await authorize(deps.auth, match.label, req, url, match.params);
        await match.handler(req, res, url, match.params);
      } catch (err) {
        // 503 HERALD_EDGE_UNAVAILABLE is expected while starting, stopping or rebalancing: not an error.
        if (!isHeraldError(err) || (err.status >= 500 && err.code !== 'HERALD_EDGE_UNAVAILABLE')) log.error({ err, method: req.method, url: redactUrl(req.url) }, 'request failed');
        else if (err.code === 'HERALD_EDGE_UNAVAILABLE') log.debug({ method: req.method, url: redactUrl(req.url), reason: err.message }, 'request refused: unavailable');
        challenge(res, err);
        sendError(res, err);
      } finally {
        duration.observe({ route: label }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    })();
  });
  server.keepAliveTimeout = 65_000; // ms: longer than common load-balancer idle timeouts
  server.headersTimeout = 70_000; // ms
  server.requestTimeout = 0; // SSE streams are long-lived
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const started = process.hrtime.bigint();
    void websockets.handleUpgrade(req, socket, head).then(({ route, status }) => {
      requests.inc({ route, status: String(status) });
      duration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
  const url = await listen(server, host, port);
  log.info({ url }, 'edge listening');
  return {
    server,
    url,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      websockets.stopAccepting();
      deps.registry.closeAll(1000);
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        server.closeAllConnections();
        websockets.terminateAll(); // upgraded sockets are no longer the http server's connections
      }, 5_000); // ms: drain deadline
      await closed;
      clearTimeout(timer);
    },
  };
}
