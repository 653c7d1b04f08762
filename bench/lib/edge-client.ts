/**
 * One client process of bench/edge.bench.ts (started with child_process.fork, commands over IPC).
 * Holds its share of the SSE streams with raw node:http (no EventSource), each bound to one of
 * several 127.0.0.x source addresses so ephemeral ports never run short, and counts what arrives.
 *
 * The benchmark's messages are `{"seq":S,"t":T,"sent_at":MS,...}`: S the publish's sequence
 * number, T its topic index, MS the publish time (performance.timeOrigin + performance.now() of
 * the publishing process, ms since the epoch: all processes read the same system clock). Per
 * stream the client keeps the last seq received and the number of distinct seqs at or above
 * `measureFrom`: one user's notifications arrive in publish order (one topic each, one user-log
 * partition), so a seq at or below the last one is a duplicate (or out of order: also a bug).
 * Latency = receive time − sent_at, into a {@link LatencyHistogram}.
 *
 * Commands (parent → child): `open` (stream these users, paced), `report` (send the totals;
 * with the per-topic publish counts it also counts missing events), `close` (exit).
 * Messages (child → parent): `progress` every 250 ms, `report`.
 */
import http from 'node:http';
import { LatencyHistogram, type HistogramData } from './latency-histogram.ts';

/** Parent → child: open streams for `users` (user index i is `user-<i>`, subscribed to topic i % topics). */
export interface OpenCommand {
  type: 'open';
  base: string;
  users: number[];
  topics: number;
  /** Source addresses, used round robin. */
  addresses: string[];
  /** Streams started per tick, and the tick, ms. */
  perTick: number;
  tickMs: number;
  /** First seq of the measured publishes: earlier ones (warm-up) are only counted. */
  measureFrom: number;
}

/** Parent → child: send the report; `expectedByTopic[t]` = measured publishes accepted on topic t. */
export interface ReportCommand {
  type: 'report';
  expectedByTopic: number[];
}

export type ClientCommand = OpenCommand | ReportCommand | { type: 'close' };

/** Child → parent, every 250 ms. */
export interface ClientProgress {
  type: 'progress';
  held: number;
  failed: number;
  closed: number;
  events: number;
  measuredEvents: number;
  /** Receive time of the newest measured event (ms since the epoch), 0 before any. */
  lastMeasuredAt: number;
}

/** Child → parent, answer to `report`. */
export interface ClientReport {
  type: 'report';
  streams: number;
  held: number;
  failed: number;
  /** Streams closed by the server (or the network) after they were held. */
  closed: number;
  /** Stream open errors by kind, and a few messages. */
  errors: Record<string, number>;
  errorSamples: string[];
  events: number;
  measuredEvents: number;
  distinct: number;
  duplicates: number;
  /** Events of a topic the user is not subscribed to. */
  foreign: number;
  missing: number;
  usersMissing: number;
  usersWithDuplicates: number;
  firstMeasuredAt: number;
  lastMeasuredAt: number;
  latency: HistogramData;
  cpuSeconds: number;
}

const now = () => performance.timeOrigin + performance.now();

/** The number after `key` in `frame` (digits, dot, minus), NaN when absent. */
function numberAfter(frame: string, key: string): number {
  const i = frame.indexOf(key);
  if (i === -1) return Number.NaN;
  let end = i + key.length;
  for (; end < frame.length; end++) {
    const c = frame.charCodeAt(end);
    if (!((c >= 48 && c <= 57) || c === 46 || c === 45 || c === 101 || c === 43)) break;
  }
  return Number(frame.slice(i + key.length, end));
}

class Client {
  readonly #agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  readonly #requests: http.ClientRequest[] = [];
  users: number[] = [];
  topics = 1;
  measureFrom = 0;
  lastSeq = new Float64Array(0);
  distinct = new Int32Array(0);
  dupOf = new Int32Array(0);
  held = 0;
  failed = 0;
  closed = 0;
  events = 0;
  measuredEvents = 0;
  duplicates = 0;
  foreign = 0;
  firstMeasuredAt = 0;
  lastMeasuredAt = 0;
  readonly latency = new LatencyHistogram();
  readonly errors: Record<string, number> = {};
  readonly errorSamples: string[] = [];

  #error(kind: string, message: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    if (this.errorSamples.length < 5) this.errorSamples.push(message);
  }

  /** Appends `users` to this client's streams and opens them, `perTick` every `tickMs`. */
  async open(c: OpenCommand): Promise<void> {
    this.topics = c.topics;
    this.measureFrom = c.measureFrom;
    const from = this.users.length;
    this.users.push(...c.users);
    const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T, fill: number): T => {
      const b = make(this.users.length);
      b.fill(fill);
      b.set(a);
      return b;
    };
    this.lastSeq = grow(this.lastSeq, (n) => new Float64Array(n), -1);
    this.distinct = grow(this.distinct, (n) => new Int32Array(n), 0);
    this.dupOf = grow(this.dupOf, (n) => new Int32Array(n), 0);
    for (let k = from; k < this.users.length; k += c.perTick) {
      const t = performance.now();
      for (let j = k; j < Math.min(this.users.length, k + c.perTick); j++) this.#stream(c.base, j, c.addresses[j % c.addresses.length]!, 0);
      const wait = c.tickMs - (performance.now() - t);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  #retry(base: string, j: number, address: string, attempt: number, kind: string, message: string): void {
    if (attempt >= 30) {
      this.failed++;
      this.#error(kind, message);
      return;
    }
    setTimeout(() => this.#stream(base, j, address, attempt + 1), 500).unref();
  }

  #stream(base: string, j: number, address: string, attempt: number): void {
    const user = `user-${this.users[j]}`;
    const topic = this.users[j]! % this.topics;
    let answered = false;
    const req = http.get(`${base}/stream?user_id=${user}`, { agent: this.#agent, localAddress: address }, (res) => {
      answered = true;
      if (res.statusCode !== 200) {
        res.resume();
        this.#retry(base, j, address, attempt, `http ${res.statusCode}`, `${user}: HTTP ${res.statusCode}`);
        return;
      }
      this.held++;
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered = buffered === '' ? chunk : buffered + chunk;
        let start = 0;
        let end: number;
        while ((end = buffered.indexOf('\n\n', start)) !== -1) {
          const frame = buffered.slice(start, end);
          start = end + 2;
          if (!frame.startsWith('id:')) continue; // retry, comments (pings)
          this.events++;
          const seq = numberAfter(frame, '"seq":');
          if (!(seq >= this.measureFrom)) continue;
          const at = now();
          this.measuredEvents++;
          if (this.firstMeasuredAt === 0) this.firstMeasuredAt = at;
          this.lastMeasuredAt = at;
          if (numberAfter(frame, '"t":') !== topic) this.foreign++;
          if (seq <= this.lastSeq[j]!) {
            this.duplicates++;
            this.dupOf[j]!++;
          } else {
            this.lastSeq[j] = seq;
            this.distinct[j]!++;
          }
          const sent = numberAfter(frame, '"sent_at":');
          if (sent > 0) this.latency.record(at - sent);
        }
        buffered = start === buffered.length ? '' : buffered.slice(start);
      });
      res.on('error', () => {});
      res.on('close', () => {
        this.held--;
        if (!shuttingDown) {
          this.closed++;
          this.#error('closed by server', `${user}: stream closed after it was held`);
        }
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => !answered && this.#retry(base, j, address, attempt, err.code ?? 'error', `${user} from ${address}: ${err.message}`));
    this.#requests.push(req);
  }

  progress(): ClientProgress {
    return { type: 'progress', held: this.held, failed: this.failed, closed: this.closed, events: this.events, measuredEvents: this.measuredEvents, lastMeasuredAt: this.lastMeasuredAt };
  }

  report(expectedByTopic: number[]): ClientReport {
    let distinct = 0;
    let missing = 0;
    let usersMissing = 0;
    let usersWithDuplicates = 0;
    for (let j = 0; j < this.users.length; j++) {
      distinct += this.distinct[j]!;
      const m = (expectedByTopic[this.users[j]! % this.topics] ?? 0) - this.distinct[j]!;
      if (m > 0) {
        missing += m;
        usersMissing++;
      }
      if (this.dupOf[j]! > 0) usersWithDuplicates++;
    }
    const cpu = process.cpuUsage();
    return {
      type: 'report',
      streams: this.users.length,
      held: this.held,
      failed: this.failed,
      closed: this.closed,
      errors: this.errors,
      errorSamples: this.errorSamples,
      events: this.events,
      measuredEvents: this.measuredEvents,
      distinct,
      duplicates: this.duplicates,
      foreign: this.foreign,
      missing,
      usersMissing,
      usersWithDuplicates,
      firstMeasuredAt: this.firstMeasuredAt,
      lastMeasuredAt: this.lastMeasuredAt,
      latency: this.latency.toJSON(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }

  close(): void {
    for (const r of this.#requests) r.destroy();
    this.#agent.destroy();
  }
}

let shuttingDown = false;

if (process.send) {
  const client = new Client();
  const send = (m: ClientProgress | ClientReport) => process.send!(m);
  const timer = setInterval(() => send(client.progress()), 250);
  process.on('message', (c: ClientCommand) => {
    if (c.type === 'open') void client.open(c);
    else if (c.type === 'report') send(client.report(c.expectedByTopic));
    else if (c.type === 'close') {
      shuttingDown = true;
      clearInterval(timer);
      client.close();
      process.disconnect();
      setTimeout(() => process.exit(0), 100).unref();
    }
  });
  // The parent died: nothing will close us.
  process.on('disconnect', () => {
    shuttingDown = true;
    process.exit(0);
  });
}
