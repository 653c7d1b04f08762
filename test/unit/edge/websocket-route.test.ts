/**
 * GET /ws on the edge's real http server with real sockets (unit test of the edge with a
 * stand-in locator and producer, like stream-redirect.test.ts): a user another edge owns is
 * refused with 307 to that edge (same path and query), a user nobody owns with 503 +
 * Retry-After, a user owned here is upgraded; a client that stops reading is dropped while a fast
 * one on the same user receives everything; the auth hook runs before the upgrade.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldError } from '../../../core/errors.ts';
import { logger } from '../../../core/logger.ts';
import { registry as metrics } from '../../../core/metrics.ts';
import type { StreamLocation } from '../../../edge/routes/stream.ts';
import { websocketEndpoint } from '../../../edge/routes/websocket.ts';
import { startEdgeServer, type EdgeServer } from '../../../edge/server.ts';
import { ConnectionRegistry } from '../../../edge/sse/connection-registry.ts';
import type { LogProducer } from '../../../log/types.ts';
import type { InboxStore } from '../../../stores/types.ts';
import { openSqliteIdempotencyStore, openSqliteInboxStore, openSqliteSubscriptionStore } from '../../../stores/sqlite/index.ts';
import { waitFor } from '../../helpers/http.ts';
import { openWs, RefusedUpgrade } from '../../helpers/ws-client.ts';

const WHERE: Record<string, StreamLocation> = {
  elsewhere: { kind: 'redirect', url: 'http://10.0.0.7:8081' },
  nobody: { kind: 'unknown' },
};

/** herald_ws_overflow_closed_total. */
async function overflows(): Promise<number> {
  const metric = metrics.getSingleMetric('herald_ws_overflow_closed_total');
  return metric ? ((await metric.get()).values[0]?.value ?? 0) : 0;
}

async function refusal(opened: Promise<void>): Promise<RefusedUpgrade> {
  const err = await opened.then(
    () => new Error('the upgrade was accepted'),
    (e: unknown) => e,
  );
  if (!(err instanceof RefusedUpgrade)) throw err;
  return err;
}

/**
 * A WebSocket client that completes the handshake by hand and then stops reading: the edge's
 * writes pile up in the kernel buffers, then in `ws.bufferedAmount`.
 */
async function stalledClient(base: string, userId: string): Promise<net.Socket> {
  const { port } = new URL(base);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    `GET /ws?user_id=${userId} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const head = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
  expect(head.startsWith('HTTP/1.1 101')).toBe(true);
  socket.pause();
  return socket;
}

describe('GET /ws on the edge server', () => {
  let edge: EdgeServer;
  let dir: string;
  const registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 64 * 1024 });
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-ws-'));
    const producer: LogProducer = { send: async () => [], sendEncoded: async () => {}, close: async () => {} };
    edge = await startEdgeServer(
      {
        logger,
        subscriptions: await openSqliteSubscriptionStore({ path: path.join(dir, 's.db') }),
        inbox: await openSqliteInboxStore({ path: path.join(dir, 'i.db') }),
        idempotency: await openSqliteIdempotencyStore({ path: path.join(dir, 'k.db') }),
        producer,
        publishLog: 'p',
        registry,
        maxMessageBytes: 4096,
        locateStream: async (userId) => WHERE[userId] ?? { kind: 'here' },
        isHealthy: () => true,
      },
      '127.0.0.1',
      0,
    );
  });
  afterAll(async () => {
    await edge.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses with 307 to the owning edge, same path and query', async () => {
    const r = await refusal(openWs(edge.url, 'elsewhere', 'x1').opened);
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe('http://10.0.0.7:8081/ws?user_id=elsewhere&last_event_id=x1');
  });

  it('refuses with 503 + Retry-After and the JSON error while no edge owns the partition', async () => {
    const r = await refusal(openWs(edge.url, 'nobody').opened);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(JSON.parse(r.body).error.code).toBe('HERALD_EDGE_UNAVAILABLE');
  });

  it('refuses a last_event_id that cannot be a notification id', async () => {
    const r = await refusal(openWs(edge.url, 'here', 'x'.repeat(129)).opened);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ code: 'HERALD_EDGE_QUERY_INVALID', message: 'last_event_id must be a notification id.' });
  });

  it('drops a client that stopped reading, while a fast one of the same user gets every event', async () => {
    const fast = openWs(edge.url, 'speedy');
    await fast.opened;
    const slow = await stalledClient(edge.url, 'speedy');
    await waitFor(() => registry.sizeOf('ws') === 2, 5_000, 'both registered'); // and live: no last_event_id
    const big = JSON.stringify({ id: 'x', message: 'm'.repeat(60_000) });
    const overflowsBefore = await overflows();
    let seq = 0;
    // At the fast client's pace, until the stalled socket's kernel buffers are full and then
    // 64 KiB of its bufferedAmount (a few MB on loopback).
    while ((await overflows()) === overflowsBefore && seq < 2_000) {
      seq++;
      registry.deliver('speedy', { seq, id: `n${seq}`, json: big });
      await waitFor(() => fast.notifications.length === seq, 10_000, `event ${seq} on the fast client`);
    }
    expect(await overflows()).toBe(overflowsBefore + 1);
    await waitFor(() => registry.sizeOf('ws') === 1, 5_000, 'the stalled client dropped');
    registry.deliver('speedy', { seq: seq + 1, id: `n${seq + 1}`, json: big });
    await waitFor(() => fast.notifications.length === seq + 1, 20_000, 'the fast client');
    expect(fast.ids()).toEqual(Array.from({ length: seq + 1 }, (_, i) => `n${i + 1}`));
    slow.destroy();
    fast.close();
  }, 60_000);
});

describe('the auth hook of GET /ws', () => {
  const registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 1 << 20 });
  const inbox = { readAfter: async () => ({ found: false, entries: [] }) } as unknown as InboxStore;
  const seen: string[] = [];
  const endpoint = websocketEndpoint({
    registry,
    inbox,
    logger,
    authorizeUser: (req, url, userId) => {
      seen.push(userId);
      if (url.searchParams.get('token') !== `t-${userId}`) throw new HeraldError('HERALD_AUTH_FORBIDDEN', 'Not your notifications.');
      void req;
    },
  });
  const server = http.createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => void endpoint.handleUpgrade(req, socket, head));
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    registry.closeAll();
    endpoint.terminateAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses before the upgrade with the hook error, and upgrades when it returns', async () => {
    const r = await refusal(openWs(base, 'ann', undefined, { token: 't-bob' }).opened);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error.code).toBe('HERALD_AUTH_FORBIDDEN');
    const ok = openWs(base, 'ann', undefined, { token: 't-ann' });
    await ok.opened;
    expect(seen).toEqual(['ann', 'ann']);
    await waitFor(() => registry.isConnected('ann'), 5_000, 'registered');
    ok.close();
  });
});
