/**
 * The router's HTTP server against two stand-in edges (real node:http servers with a `ws`
 * WebSocket endpoint; the owner table is in memory instead of Redis): requests land on the
 * owning edge, SSE passes event by event, bodies stream, headers pass with X-Forwarded-For, a
 * 307 from an edge is followed once by re-resolving, WebSocket upgrades are piped, an unowned
 * partition or a dead edge gives Herald's JSON 503 with Retry-After, and a connection that breaks
 * after the request went out is repeated for a GET and answered 502 for a body.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { logger } from '../../../core/logger.ts';
import { registry } from '../../../core/metrics.ts';
import { OwnerMap } from '../../../router/owner-map.ts';
import { startRouterServer, type RouterServer } from '../../../router/server.ts';

const PARTITIONS = 4;

/** A stand-in edge: answers with its name, what it received, and keeps SSE responses open. */
class FakeEdge {
  readonly name: string;
  server!: http.Server;
  url = '';
  /** Open SSE responses by user. */
  readonly streams = new Map<string, http.ServerResponse>();
  /** Users whose streams closed on this edge. */
  readonly closedStreams: string[] = [];
  /** Users this edge redirects (as an edge that lost the partition does). */
  readonly redirect = new Map<string, string>();
  /** Path → how many more requests to it get their connection dropped before any answer. */
  readonly resets = new Map<string, number>();
  readonly wss = new WebSocketServer({ noServer: true });

  constructor(name: string) {
    this.name = name;
    this.wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`${this.name}:${String(m)}`)));
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.#handle(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url!, 'http://edge');
      if (url.pathname !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n{"error":404}');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://edge');
    const user = url.searchParams.get('user_id') ?? '';
    if ((this.resets.get(url.pathname) ?? 0) > 0) {
      this.resets.set(url.pathname, this.resets.get(url.pathname)! - 1);
      for await (const _ of req); // the whole request arrived, then the edge dies
      req.socket.destroy();
      return;
    }
    if (this.redirect.has(user)) {
      res.writeHead(307, { location: `${this.redirect.get(user)}${url.pathname}${url.search}`, 'content-length': '0' });
      res.end();
      return;
    }
    if (url.pathname === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-edge': this.name });
      res.write(`id: 1\nevent: notification\ndata: ${JSON.stringify({ edge: this.name, lastEventId: req.headers['last-event-id'] ?? null })}\n\n`);
      this.streams.set(user, res);
      res.on('close', () => {
        this.streams.delete(user);
        this.closedStreams.push(user);
      });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.stringify({ edge: this.name, method: req.method, path: url.pathname, body: Buffer.concat(chunks).toString(), headers: req.headers });
    res.writeHead(url.pathname === '/publish' ? 202 : 200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
    res.end(body);
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Reads an SSE body until `n` events (blank-line separated) arrived; returns their data lines. */
async function readEvents(reader: ReadableStreamDefaultReader<string>, n: number, carry: { buf: string }): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    let end: number;
    while ((end = carry.buf.indexOf('\n\n')) !== -1) {
      const frame = carry.buf.slice(0, end);
      carry.buf = carry.buf.slice(end + 2);
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (data) out.push(data.slice(6));
      if (out.length === n) return out;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended after ${out.length} events`);
    carry.buf += value;
  }
  return out;
}

const metric = async (name: string, labels = ''): Promise<number> => {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('herald router server (stand-in edges)', () => {
  const a = new FakeEdge('edge-a');
  const b = new FakeEdge('edge-b');
  let table: (string | null)[];
  let owners: OwnerMap;
  let router: RouterServer;
  /** A user on each partition: users[p] has partitionFor(users[p]) === p. */
  const users: string[] = [];

  beforeAll(async () => {
    await a.start();
    await b.start();
    owners = new OwnerMap({ partitions: PARTITIONS, load: async () => [...table], minRefreshGapMs: 0 });
    for (let i = 0; users.length < PARTITIONS || users.includes(undefined as never); i++) {
      const p = owners.partitionOf(`user-${i}`);
      users[p] ??= `user-${i}`;
      if (i > 1000) throw new Error('no user for every partition');
    }
    router = await startRouterServer({ owners, logger, connectTimeoutMs: 1_000 }, '127.0.0.1', 0);
  });
  beforeEach(async () => {
    table = [a.url, a.url, b.url, b.url];
    for (const e of [a, b]) {
      e.redirect.clear();
      e.resets.clear();
    }
    await owners.refresh(0);
  });
  afterAll(async () => {
    await router?.close(100);
    await a.close();
    await b.close();
  });

  it('sends each user to the owner of the user partition and reports health', async () => {
    for (const [p, user] of users.entries()) {
      const r = await fetch(`${router.url}/notifications?user_id=${user}&limit=5`);
      const body = (await r.json()) as { edge: string; path: string };
      expect(r.status).toBe(200);
      expect(body.edge).toBe(p < 2 ? 'edge-a' : 'edge-b');
      expect(r.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    }
    const h = await fetch(`${router.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', owner_edges: 2, unowned_partitions: 0 });
  });

  it('passes headers through with X-Forwarded-For and streams request bodies to any edge, round-robin', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      // A chunked request body (no content-length), sent in two pieces.
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"topic_id":"news",'));
          c.enqueue(new TextEncoder().encode(`"message":"m${i}"}`));
          c.close();
        },
      });
      const r = await fetch(`${router.url}/publish`, {
        method: 'POST',
        body,
        duplex: 'half',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k', 'idempotency-key': `k${i}`, 'x-forwarded-for': '203.0.113.9' },
      } as RequestInit);
      expect(r.status).toBe(202);
      const got = (await r.json()) as { edge: string; body: string; headers: Record<string, string> };
      seen.add(got.edge);
      expect(JSON.parse(got.body)).toEqual({ topic_id: 'news', message: `m${i}` });
      expect(got.headers.authorization).toBe('Bearer k');
      expect(got.headers['idempotency-key']).toBe(`k${i}`);
      expect(got.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
      expect(got.headers['x-forwarded-proto']).toBe('http');
      expect(got.headers['x-forwarded-host']).toBe(new URL(router.url).host);
    }
    expect(seen).toEqual(new Set(['edge-a', 'edge-b']));
  });

  it('relays SSE event by event with Last-Event-ID, and closes the edge stream when the client leaves', async () => {
    const user = users[3]!;
    const ctl = new AbortController();
    const r = await fetch(`${router.url}/stream?user_id=${user}`, { headers: { 'last-event-id': 'n-41' }, signal: ctl.signal });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    expect(r.headers.get('x-edge')).toBe('edge-b');
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    const carry = { buf: '' };
    expect(JSON.parse((await readEvents(reader, 1, carry))[0]!)).toEqual({ edge: 'edge-b', lastEventId: 'n-41' });
    // Each event written by the edge reaches the client before the next one is written.
    for (let i = 2; i <= 4; i++) {
      b.streams.get(user)!.write(`id: ${i}\nevent: notification\ndata: {"n":${i}}\n\n`);
      expect(await readEvents(reader, 1, carry)).toEqual([`{"n":${i}}`]);
    }
    ctl.abort();
    await expect.poll(() => b.closedStreams.includes(user)).toBe(true);
  });

  it('follows a 307 of an edge that lost the partition once, by re-resolving', async () => {
    const user = users[0]!;
    const before = await metric('herald_router_redirects_followed_total');
    // Ownership moved to edge-b after the router's last read; edge-a redirects.
    table = [b.url, a.url, b.url, b.url];
    a.redirect.set(user, b.url);
    const r = await fetch(`${router.url}/notifications?user_id=${user}`, { redirect: 'manual' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { edge: string }).edge).toBe('edge-b');
    expect(await metric('herald_router_redirects_followed_total')).toBe(before + 1);
  });

  it('answers 503 + Retry-After in Herald error shape when no edge owns the partition, or edges keep redirecting', async () => {
    table = [null, a.url, b.url, b.url];
    await owners.refresh(0);
    const r = await fetch(`${router.url}/stream?user_id=${users[0]}`);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('HERALD_EDGE_UNAVAILABLE');
    // Two edges pointing at each other: one re-resolve, then 503 (never a loop).
    a.redirect.set(users[1]!, b.url);
    const again = await fetch(`${router.url}/stream?user_id=${users[1]}`, { redirect: 'manual' });
    expect(again.status).toBe(503);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('HERALD_EDGE_UNAVAILABLE');
  });

  it('retries a request whose edge refuses connections on another edge; a user on a dead edge gets 503', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
    table = [deadUrl, deadUrl, b.url, b.url];
    await owners.refresh(0);
    const errorsBefore = await metric('herald_router_upstream_errors_total', 'kind="connect"');
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${router.url}/subscribe`, { method: 'POST', body: '{"topic_id":"t","user_id":"u"}', headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { edge: string }).edge).toBe('edge-b');
    }
    const r = await fetch(`${router.url}/notifications?user_id=${users[0]}`);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(await metric('herald_router_upstream_errors_total', 'kind="connect"')).toBeGreaterThan(errorsBefore);
  });

  it('repeats a GET whose connection broke, and answers 502 HERALD_EDGE_UPSTREAM_FAILED for a body that was sent', async () => {
    const resetsBefore = await metric('herald_router_upstream_errors_total', 'kind="reset"');
    a.resets.set('/notifications', 1);
    const r = await fetch(`${router.url}/notifications?user_id=${users[0]}`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { edge: string }).edge).toBe('edge-a');
    for (const e of [a, b]) e.resets.set('/publish', 1);
    const p = await fetch(`${router.url}/publish`, { method: 'POST', body: '{"topic_id":"t","message":"m"}', headers: { 'content-type': 'application/json' } });
    expect(p.status).toBe(502);
    expect(((await p.json()) as { error: { code: string } }).error.code).toBe('HERALD_EDGE_UPSTREAM_FAILED');
    expect(await metric('herald_router_upstream_errors_total', 'kind="reset"')).toBe(resetsBefore + 2);
  });

  it('pipes a WebSocket upgrade to the owning edge, and relays an edge that refuses the upgrade', async () => {
    for (const [p, user] of users.entries()) {
      const ws = new WebSocket(`${router.url.replace('http', 'ws')}/ws?user_id=${user}`);
      await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const replies: string[] = [];
      ws.on('message', (m) => replies.push(String(m)));
      ws.send('hello');
      ws.send('again');
      await expect.poll(() => replies.length).toBe(2);
      expect(replies).toEqual([`${p < 2 ? 'edge-a' : 'edge-b'}:hello`, `${p < 2 ? 'edge-a' : 'edge-b'}:again`]);
      ws.close();
      await new Promise((r) => ws.once('close', r));
    }
    expect(await metric('herald_router_requests_total', 'route="GET /ws",status="101"')).toBe(PARTITIONS);
    const refused = new WebSocket(`${router.url.replace('http', 'ws')}/nope?user_id=${users[0]}`);
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode!)).once('error', () => resolve(-1)));
    expect(status).toBe(404);
    // No owner: the upgrade gets Herald's 503 on the raw socket.
    table = [null, a.url, b.url, b.url];
    await owners.refresh(0);
    const unowned = new WebSocket(`${router.url.replace('http', 'ws')}/ws?user_id=${users[0]}`);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => unowned.once('unexpected-response', (_req, r) => resolve(r)).once('error', reject));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    res.resume();
  });
});
