/**
 * A lean SSE reader for load tests: one node:http request per stream, counts `notification`
 * events and records publish→receive latency from the `sent_at` field (ms, performance clock of
 * this process) that the load generator puts into each message. Lighter than a full EventSource
 * so that thousands of streams fit next to the server on a small machine.
 */
import http from 'node:http';

/** Latencies (ms) and counts of all streams of one listener. */
export class SseListener {
  readonly latenciesMs: number[] = [];
  events = 0;
  #requests: http.ClientRequest[] = [];
  #agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  /** When false, latencies are not recorded (warm-up, throughput phase). */
  recordLatency = true;

  /** Opens one stream for `userId`; resolves when the response headers arrived. */
  open(base: string, userId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${base}/stream?user_id=${encodeURIComponent(userId)}`, { agent: this.#agent }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`stream ${userId}: HTTP ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let end: number;
          while ((end = buffered.indexOf('\n\n')) !== -1) {
            const frame = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            if (!frame.includes('event: notification')) continue;
            this.events++;
            if (!this.recordLatency) continue;
            const m = /"sent_at":([\d.]+)/.exec(frame);
            if (m) this.latenciesMs.push(performance.now() - Number(m[1]));
          }
        });
        res.on('error', () => {});
        resolve();
      });
      req.on('error', reject);
      this.#requests.push(req);
    });
  }

  /** Closes every stream. */
  close(): void {
    for (const r of this.#requests) r.destroy();
    this.#agent.destroy();
  }
}
