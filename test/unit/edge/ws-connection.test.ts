/**
 * WebSocket connections in the connection registry beside SSE ones, against stand-in socket and
 * response objects (unit test of the connection module): the same events and ids on every
 * connection of a user whatever its transport, the message format, backlog then live, a slow
 * WebSocket dropped (retry message, close 1013, terminated after the grace) while the others keep
 * receiving, rebalance/shutdown closes with the retry message and 1012, pings and dead peers.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { registry as metrics } from '../../../core/metrics.ts';
import { waitFor } from '../../helpers/http.ts';
import { ConnectionRegistry } from '../../../edge/sse/connection-registry.ts';
import { OVERFLOW_CLOSE_GRACE_MS, WsConnection, notificationMessage, retryMessage } from '../../../edge/ws/ws-connection.ts';

const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Stands in for a server-side `ws` WebSocket. */
class FakeWebSocket extends EventEmitter {
  readyState = OPEN;
  bufferedAmount = 0;
  sent: string[] = [];
  pings = 0;
  closeCode: number | undefined;
  terminated = false;
  /** When false, close() only starts the handshake (the client never answers). */
  answersClose = true;
  /** Send callbacks not yet run (the socket has not taken the data). */
  unflushed: (() => void)[] = [];
  send(data: string, cb?: (err?: Error) => void): void {
    this.sent.push(data);
    if (cb) this.unflushed.push(() => cb());
  }
  flush(): void {
    for (const cb of this.unflushed.splice(0)) cb();
  }
  ping(): void {
    this.pings++;
  }
  close(code: number): void {
    if (this.readyState !== OPEN) return;
    this.closeCode = code;
    this.readyState = CLOSING;
    if (this.answersClose) this.#closed(code);
  }
  terminate(): void {
    this.terminated = true;
    if (this.readyState !== CLOSED) this.#closed(1006);
  }
  #closed(code: number): void {
    this.readyState = CLOSED;
    this.emit('close', code);
  }
  messages(): { type: string; id?: string; data?: unknown; retry_ms?: number }[] {
    return this.sent.map((s) => JSON.parse(s));
  }
  ids(): string[] {
    return this.messages().filter((m) => m.type === 'notification').map((m) => m.id!);
  }
}

/** Stands in for an SSE response. */
class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  writableLength = 0;
  destroyed = false;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  ids(): string[] {
    return this.chunks.flatMap((c) => [...c.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!));
  }
}

const ev = (seq: number) => ({ seq, id: `n${seq}`, json: `{"id":"n${seq}","topic_id":"t","message":"m${seq}"}` });

async function counterValue(name: string): Promise<number> {
  const metric = metrics.getSingleMetric(name);
  return metric ? ((await metric.get()).values[0]?.value ?? 0) : 0;
}

describe('WebSocket connections in the registry', () => {
  let registry: ConnectionRegistry;
  afterEach(() => registry.closeAll());

  const addWs = (user: string, max = 1 << 20) => {
    const ws = new FakeWebSocket();
    const conn = registry.register(new WsConnection(user, ws as unknown as WebSocket, { maxBufferedBytes: max, retryMs: 1500 }));
    return { ws, conn };
  };

  it('gives two WebSockets and one SSE stream of a user the same events with the same ids', () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 1 << 20 });
    const a = addWs('u');
    const b = addWs('u');
    const res = new FakeResponse();
    registry.add('u', res as unknown as ServerResponse).goLive();
    a.conn.goLive();
    b.conn.goLive();
    expect(registry.sizeOf('ws')).toBe(2);
    expect(registry.sizeOf('sse')).toBe(1);
    for (const seq of [1, 2, 3]) registry.deliver('u', ev(seq));
    registry.deliver('u', ev(2)); // a replay: skipped everywhere
    expect(a.ws.ids()).toEqual(['n1', 'n2', 'n3']);
    expect(b.ws.ids()).toEqual(['n1', 'n2', 'n3']);
    expect(res.ids()).toEqual(['n1', 'n2', 'n3']);
    // The message carries the SSE event's data byte for byte.
    expect(a.ws.sent[0]).toBe(`{"type":"notification","id":"n1","data":${ev(1).json}}`);
    expect(res.chunks.find((c) => c.startsWith('id: n1'))).toBe(`id: n1\nevent: notification\ndata: ${ev(1).json}\n\n`);
    expect(notificationMessage('x', '{}')).toBe('{"type":"notification","id":"x","data":{}}');
    expect(retryMessage(1234.7)).toBe('{"type":"retry","retry_ms":1234}');
  });

  it('queues live events during the backlog, then writes the newer ones once, in seq order', () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 1 << 20 });
    const { ws, conn } = addWs('u');
    registry.deliver('u', ev(5));
    registry.deliver('u', ev(3));
    conn.writeBacklog(ev(2));
    conn.writeBacklog(ev(3));
    conn.goLive();
    registry.deliver('u', ev(4));
    registry.deliver('u', ev(6));
    expect(ws.ids()).toEqual(['n2', 'n3', 'n5', 'n6']);
  });

  it('waits for the socket to take what was sent before more backlog (send callbacks)', async () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 1 << 20 });
    const { ws, conn } = addWs('u');
    conn.writeBacklog(ev(1));
    ws.bufferedAmount = 20_000;
    expect(conn.needsDrain).toBe(true);
    let drained = false;
    const waiting = conn.waitDrain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(drained).toBe(false);
    ws.bufferedAmount = 0;
    ws.flush();
    await waiting;
    expect(conn.needsDrain).toBe(false);
  });

  it('drops only the slow WebSocket (retry message, close 1013) while the others keep receiving', async () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 100 });
    const before = await counterValue('herald_ws_overflow_closed_total');
    const slow = addWs('u', 100);
    const fast = addWs('u', 100);
    const res = new FakeResponse();
    registry.add('u', res as unknown as ServerResponse).goLive();
    slow.conn.goLive();
    fast.conn.goLive();
    slow.ws.bufferedAmount = 101;
    registry.deliver('u', ev(1));
    expect(slow.ws.closeCode).toBe(1013);
    expect(slow.ws.messages().at(-1)).toEqual({ type: 'retry', retry_ms: 1500 });
    expect(registry.sizeOf('ws')).toBe(1);
    registry.deliver('u', ev(2));
    expect(fast.ws.ids()).toEqual(['n1', 'n2']); // one slow client never holds back the others
    expect(res.ids()).toEqual(['n1', 'n2']);
    expect(slow.ws.ids()).toEqual(['n1']);
    expect(await counterValue('herald_ws_overflow_closed_total')).toBe(before + 1);
  });

  it('destroys a dropped client that does not finish the close handshake within the grace', async () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 100 });
    const slow = addWs('u', 100);
    slow.ws.answersClose = false;
    slow.conn.goLive();
    slow.ws.bufferedAmount = 101;
    registry.deliver('u', ev(1));
    expect(slow.ws.closeCode).toBe(1013);
    expect(slow.ws.terminated).toBe(false);
    expect(slow.conn.closed).toBe(true);
    registry.deliver('u', ev(2)); // nothing more is queued for it
    expect(slow.ws.ids()).toEqual(['n1']);
    await new Promise((r) => setTimeout(r, OVERFLOW_CLOSE_GRACE_MS + 100));
    expect(slow.ws.terminated).toBe(true);
    expect(registry.isConnected('u')).toBe(false);
  });

  it('closes the moved users (rebalance) with a retry message and 1012, SSE with retry:', () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 1 << 20 });
    const alice = addWs('alice');
    const aliceSse = new FakeResponse();
    registry.add('alice', aliceSse as unknown as ServerResponse);
    const bob = addWs('bob');
    expect(registry.closeUsers((u) => u === 'alice', 500)).toBe(2);
    expect(alice.ws.messages()).toEqual([{ type: 'retry', retry_ms: 500 }]);
    expect(alice.ws.closeCode).toBe(1012);
    expect(aliceSse.chunks.join('')).toContain('retry: 500');
    expect(bob.ws.closeCode).toBeUndefined();
    expect(registry.isConnected('alice')).toBe(false);
    expect(registry.isConnected('bob')).toBe(true);
    registry.closeAll(2000);
    expect(bob.ws.messages()).toEqual([{ type: 'retry', retry_ms: 2000 }]);
    expect(bob.ws.closeCode).toBe(1012);
    expect(registry.size).toBe(0);
  });

  it('pings every WebSocket and terminates one that answered no ping for two intervals', async () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 20, maxBufferedBytes: 1 << 20 });
    const alive = addWs('u');
    const dead = addWs('u');
    alive.conn.goLive();
    const ping = alive.ws.ping.bind(alive.ws);
    alive.ws.ping = () => {
      ping();
      queueMicrotask(() => alive.ws.emit('pong')); // a client answers every ping
    };
    await waitFor(() => dead.ws.terminated, 5_000, 'the dead peer dropped');
    expect(alive.ws.pings).toBeGreaterThanOrEqual(3);
    expect(alive.ws.terminated).toBe(false);
    expect(dead.ws.pings).toBe(2);
    expect(dead.ws.terminated).toBe(true);
    expect(registry.sizeOf('ws')).toBe(1);
  });
});
