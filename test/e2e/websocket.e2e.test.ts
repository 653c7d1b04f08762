/**
 * GET /ws against a real in-process Herald (embedded profile) with real `ws` and EventSource
 * clients: the same notifications with the same ids and data as SSE, several connections of one
 * user over both transports, resume with last_event_id (no gap, no duplicate), pings, bad input
 * refused before the upgrade, and the retry message + close 1012 on shutdown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, waitFor } from '../helpers/http.ts';
import { openStream } from '../helpers/sse-client.ts';
import { startInProcess } from '../helpers/herald.ts';
import { openWs, openWsUrl, RefusedUpgrade } from '../helpers/ws-client.ts';
import type { HeraldApp } from '../../jobs/app.ts';

/** Publishes `n` messages to `topic`; returns their ids in publish order. */
async function publish(url: string, topic: string, n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await api(url, 'POST', '/publish', { topic_id: topic, message: { label, i } })).body.id);
  return ids;
}

/** The refusal of an upgrade that must fail. */
async function refusal(opened: Promise<void>): Promise<RefusedUpgrade> {
  const err = await opened.then(
    () => new Error('the upgrade was accepted'),
    (e: unknown) => e,
  );
  if (!(err instanceof RefusedUpgrade)) throw err;
  return err;
}

describe('WebSocket stream (GET /ws)', () => {
  let app: HeraldApp;
  let url: string;
  let stopped = false;
  beforeAll(async () => {
    ({ app, url } = await startInProcess({ HERALD_SSE_PING_MS: '200' }));
    for (const user of ['wanda', 'walt', 'wren', 'wes']) await api(url, 'POST', '/subscribe', { topic_id: 'ws-news', user_id: user });
  });
  afterAll(async () => {
    if (!stopped) await app?.close();
  });

  it('delivers each notification with the same id and data as the SSE stream', async () => {
    const sse = openStream(url, 'wanda');
    const ws = openWs(url, 'wanda');
    await Promise.all([sse.opened, ws.opened]);
    const ids = await publish(url, 'ws-news', 3, 'same');
    await waitFor(() => sse.events.length >= 3 && ws.notifications.length >= 3, 10_000, 'both transports');
    expect(ws.ids()).toEqual(ids);
    expect(sse.ids()).toEqual(ids);
    expect(ws.notifications.map((n) => n.data)).toEqual(sse.events.map((e) => e.data));
    expect(ws.notifications[0]!.data).toMatchObject({ id: ids[0], topic_id: 'ws-news', message: { label: 'same', i: 0 } });
    sse.close();
    ws.close();
  });

  it('gives every connection of a user every event: two WebSockets and one SSE stream', async () => {
    const tabs = [openWs(url, 'walt'), openWs(url, 'walt')];
    const sse = openStream(url, 'walt');
    await Promise.all([...tabs.map((t) => t.opened), sse.opened]);
    const health = await api(url, 'GET', '/healthz');
    expect(health.body.ws_connections).toBeGreaterThanOrEqual(2);
    const ids = await publish(url, 'ws-news', 5, 'tabs');
    await waitFor(() => tabs.every((t) => t.notifications.length >= 5) && sse.events.length >= 5, 10_000, 'all connections');
    for (const t of tabs) expect(t.ids()).toEqual(ids);
    expect(sse.ids()).toEqual(ids);
    for (const t of tabs) t.close();
    sse.close();
  });

  it('resumes with last_event_id: replays exactly what came after it, then goes live', async () => {
    const first = openWs(url, 'wren');
    await first.opened;
    const ids = await publish(url, 'ws-news', 6, 'resume');
    await waitFor(() => first.notifications.length >= 6, 10_000, 'the first connection');
    first.close();
    await first.closed;

    const resumed = openWs(url, 'wren', ids[2]);
    await resumed.opened;
    await waitFor(() => resumed.notifications.length >= 3, 10_000, 'the backlog');
    const live = await publish(url, 'ws-news', 2, 'after-resume');
    await waitFor(() => resumed.notifications.length >= 5, 10_000, 'the live notifications');
    await new Promise((r) => setTimeout(r, 200)); // nothing else may follow
    expect(resumed.ids()).toEqual([...ids.slice(3), ...live]);
    resumed.close();
  });

  it('sends ping frames at HERALD_SSE_PING_MS', async () => {
    const ws = openWs(url, 'wes');
    await ws.opened;
    await waitFor(() => ws.pings >= 2, 5_000, 'two pings');
    ws.close();
  });

  it('refuses a bad user_id with 400 and the JSON error before upgrading, and a plain GET with 426', async () => {
    const bad = await refusal(openWs(url, 'not valid!').opened);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('HERALD_EDGE_ID_INVALID');
    const missing = await refusal(openWsUrl(`${url.replace(/^http/, 'ws')}/ws`).opened);
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body).error.code).toBe('HERALD_EDGE_QUERY_INVALID');
    const twice = await refusal(openWsUrl(`${url.replace(/^http/, 'ws')}/ws?user_id=a&user_id=b`).opened);
    expect(JSON.parse(twice.body).error.code).toBe('HERALD_EDGE_QUERY_INVALID');
    const elsewhere = await refusal(openWsUrl(`${url.replace(/^http/, 'ws')}/stream?user_id=wes`).opened);
    expect(elsewhere.status).toBe(404);
    const plain = await api(url, 'GET', '/ws?user_id=wes'); // no Upgrade header
    expect(plain.status).toBe(426);
    expect(plain.headers.get('upgrade')).toBe('websocket');
    expect(plain.body.error.code).toBe('HERALD_EDGE_UPGRADE_REQUIRED');
  });

  it('on shutdown sends a retry message, then closes with 1012', async () => {
    const ws = openWs(url, 'wes');
    await ws.opened;
    stopped = true;
    await app.close();
    expect(await ws.closed).toBe(1012);
    expect(ws.retries).toEqual([1000]);
  });
});
