/**
 * GET /stream on the kafka profile (unit test of the edge with a stand-in locator and producer):
 * a user whose partition another edge owns is redirected there with 307 (same path and query), a
 * user nobody owns yet gets 503 + Retry-After, and a user owned here is streamed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../../core/logger.ts';
import type { StreamLocation } from '../../../edge/routes/stream.ts';
import { startEdgeServer, type EdgeServer } from '../../../edge/server.ts';
import { ConnectionRegistry } from '../../../edge/sse/connection-registry.ts';
import type { LogProducer } from '../../../log/types.ts';
import { openSqliteIdempotencyStore, openSqliteInboxStore, openSqliteSubscriptionStore } from '../../../stores/sqlite/index.ts';

const WHERE: Record<string, StreamLocation> = {
  here: { kind: 'here' },
  elsewhere: { kind: 'redirect', url: 'http://10.0.0.7:8081' },
  nobody: { kind: 'unknown' },
};

describe('GET /stream routing to the owning edge', () => {
  let edge: EdgeServer;
  let dir: string;
  const registry = new ConnectionRegistry({ pingIntervalMs: 60_000, maxBufferedBytes: 1 << 20 });
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-redirect-'));
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
        locateStream: async (userId) => WHERE[userId]!,
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

  it('redirects to the owner with the same path and query', async () => {
    const r = await fetch(`${edge.url}/stream?user_id=elsewhere&last_event_id=x1`, { redirect: 'manual' });
    expect(r.status).toBe(307);
    expect(r.headers.get('location')).toBe('http://10.0.0.7:8081/stream?user_id=elsewhere&last_event_id=x1');
  });

  it('answers 503 with Retry-After while no edge owns the partition', async () => {
    const r = await fetch(`${edge.url}/stream?user_id=nobody`);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('HERALD_EDGE_UNAVAILABLE');
  });

  it('streams a user owned here', async () => {
    const r = await fetch(`${edge.url}/stream?user_id=here`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    await r.body!.cancel();
  });
});
