/**
 * SSE connections and their registry, against a stand-in response object (unit test of one
 * module): ordering and de-duplication by seq, backlog then live, slow readers dropped.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../../../edge/sse/connection-registry.ts';

class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  writableLength = 0;
  destroyed = false;
  ended = false;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
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

const ev = (seq: number) => ({ seq, id: `n${seq}`, json: `{"id":"n${seq}"}` });

describe('SSE connection registry', () => {
  let registry: ConnectionRegistry;
  afterEach(() => registry.closeAll());

  it('queues live events during the backlog, then writes the newer ones once, in seq order', () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 1 << 20 });
    const res = new FakeResponse();
    const conn = registry.add('u', res as unknown as ServerResponse);
    registry.deliver('u', ev(5));
    registry.deliver('u', ev(3));
    conn.write(ev(2)); // backlog
    conn.write(ev(3));
    conn.goLive();
    registry.deliver('u', ev(4)); // older than what was written: skipped
    registry.deliver('u', ev(6));
    expect(res.ids()).toEqual(['n2', 'n3', 'n5', 'n6']);
  });

  it('drops a reader whose unsent bytes pass the limit, and forgets it', () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 100 });
    const slow = new FakeResponse();
    const fast = new FakeResponse();
    registry.add('u', slow as unknown as ServerResponse).goLive();
    registry.add('u', fast as unknown as ServerResponse).goLive();
    expect(registry.size).toBe(2);
    slow.writableLength = 101;
    registry.deliver('u', ev(1));
    expect(slow.destroyed).toBe(true);
    expect(registry.size).toBe(1);
    registry.deliver('u', ev(2));
    expect(fast.ids()).toEqual(['n1', 'n2']); // one slow client never holds back the others
  });

  it('pings every connection and closes all with a retry hint', async () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 20, maxBufferedBytes: 1 << 20 });
    const res = new FakeResponse();
    registry.add('u', res as unknown as ServerResponse).goLive();
    await new Promise((r) => setTimeout(r, 70));
    expect(res.chunks.filter((c) => c === ': ping\n\n').length).toBeGreaterThanOrEqual(2);
    registry.closeAll(2500);
    expect(res.chunks.at(-1)).toBe('retry: 2500\n\n');
    expect(res.ended).toBe(true);
    expect(registry.isConnected('u')).toBe(false);
  });

  it('closes the streams of the users a rebalance moved away, and only those', () => {
    registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 1 << 20 });
    const [a1, a2, b] = [new FakeResponse(), new FakeResponse(), new FakeResponse()];
    registry.add('alice', a1 as unknown as ServerResponse);
    registry.add('alice', a2 as unknown as ServerResponse);
    registry.add('bob', b as unknown as ServerResponse);
    expect(registry.closeUsers((u) => u === 'alice', 500)).toBe(2);
    expect(a1.ended && a2.ended).toBe(true);
    expect(a1.chunks.join('')).toContain('retry: 500');
    expect(b.ended).toBe(false);
    expect(registry.isConnected('alice')).toBe(false);
    expect(registry.isConnected('bob')).toBe(true);
  });

  it("reports a user's first stream and last close (presence), not every stream", () => {
    const events: string[] = [];
    registry = new ConnectionRegistry({
      pingIntervalMs: 60_000,
      maxBufferedBytes: 1 << 20,
      onUserConnected: (u) => events.push(`+${u}`),
      onUserDisconnected: (u) => events.push(`-${u}`),
    });
    const [a1, a2] = [new FakeResponse(), new FakeResponse()];
    registry.add('ann', a1 as unknown as ServerResponse);
    registry.add('ann', a2 as unknown as ServerResponse);
    expect(registry.users()).toEqual(['ann']);
    a1.end();
    expect(events).toEqual(['+ann']);
    a2.end();
    expect(events).toEqual(['+ann', '-ann']);
    expect(registry.users()).toEqual([]);
  });
});

