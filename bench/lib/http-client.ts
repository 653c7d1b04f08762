/**
 * What the benchmarks share to drive a Herald edge over HTTP: a JSON POST over keep-alive
 * connections, and a bounded-concurrency loop.
 */
import http from 'node:http';

/** A keep-alive client for one benchmark. */
export interface JsonPoster {
  /** POSTs `body` as JSON; resolves with the parsed answer (or the text when not JSON); non-2xx rejects. */
  post(base: string, route: string, body: unknown, headers?: Record<string, string>): Promise<any>;
}

/** A poster with its own keep-alive agent of at most `maxSockets` connections. */
export function jsonPoster(maxSockets = 64): JsonPoster {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    post(base, route, body, headers = {}) {
      const payload = JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = http.request(base + route, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 300) return reject(new Error(`POST ${route} → ${res.statusCode} ${text}`));
            try {
              resolve(text === '' ? undefined : JSON.parse(text));
            } catch {
              resolve(text);
            }
          });
        });
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}

/**
 * Runs `fn` over items 0..count-1 with at most `concurrency` in flight. No item starts after
 * `until` (performance.now() clock, ms); `onDone` gets the number finished so far.
 */
export async function pool(count: number, concurrency: number, fn: (i: number) => Promise<void>, o: { until?: number; onDone?: (done: number) => void } = {}): Promise<void> {
  let next = 0;
  let done = 0;
  const until = o.until ?? Infinity;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count && performance.now() < until) {
        await fn(next++);
        o.onDone?.(++done);
      }
    }),
  );
}
