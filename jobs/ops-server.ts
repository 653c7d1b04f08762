/**
 * The HTTP endpoints of a process without an edge (`herald job`): GET /healthz and GET /metrics,
 * so ops can probe and scrape every instance of a consumer group.
 */
import http from 'node:http';
import { registry } from '../core/metrics.ts';
import { listen } from '../edge/http/listen.ts';

/** A running ops server. */
export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on host:port (0 = any free port).
 * @throws HeraldError HERALD_CONFIG_INVALID when the port cannot be bound
 */
export async function startOpsServer(host: string, port: number, isHealthy: () => boolean): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const ok = isHealthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { status: 'ok' } : { error: { code: 'HERALD_EDGE_UNAVAILABLE', message: 'Herald is starting or stopping.' } }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'HERALD_EDGE_NOT_FOUND', message: `${req.method} ${path}: a job instance serves only GET /healthz and GET /metrics.` } }));
  });
  const url = await listen(server, host, port);
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
