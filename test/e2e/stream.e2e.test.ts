/**
 * GET /stream details over real HTTP: headers, `: ping` comments at the configured interval,
 * several connections of one user each getting every event, and a resume from an unknown
 * Last-Event-ID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, waitFor } from '../helpers/http.ts';
import { openStream } from '../helpers/sse-client.ts';
import { startInProcess } from '../helpers/herald.ts';
import type { HeraldApp } from '../../jobs/app.ts';

describe('SSE stream', () => {
  let app: HeraldApp;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await startInProcess({ HERALD_SSE_PING_MS: '200' }));
    await api(url, 'POST', '/subscribe', { topic_id: 'alerts', user_id: 'dana' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers text/event-stream and sends `: ping` comments at HERALD_SSE_PING_MS', async () => {
    const res = await fetch(`${url}/stream?user_id=dana`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toContain('no-cache');
    const reader = res.body!.getReader();
    let text = '';
    const started = Date.now();
    while ((text.match(/: ping\n\n/g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(text.startsWith('retry: ')).toBe(true);
  });

  it('gives every connection of a user every event (tabs, devices)', async () => {
    const tabs = [openStream(url, 'dana'), openStream(url, 'dana'), openStream(url, 'dana')];
    await Promise.all(tabs.map((t) => t.opened));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api(url, 'POST', '/publish', { topic_id: 'alerts', message: `alert ${i}` })).body.id);
    await waitFor(() => tabs.every((t) => t.events.length >= 5), 10_000, 'all tabs');
    for (const t of tabs) {
      expect(t.ids()).toEqual(ids);
      t.close();
    }
  });

  it('resumes after a Last-Event-ID written in upper case exactly like the canonical id (UUIDs are case-insensitive)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api(url, 'POST', '/publish', { topic_id: 'alerts', message: `case ${i}` })).body.id);
    await waitFor(async () => (await api(url, 'GET', '/notifications?user_id=dana&limit=1000')).body.notifications.some((n: { id: string }) => n.id === ids[2]), 10_000, 'the 3 notifications');
    const resumed = openStream(url, 'dana', ids[0]!.toUpperCase());
    await resumed.opened;
    await waitFor(() => resumed.events.length >= 2, 10_000, 'the replay');
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed.ids()).toEqual(ids.slice(1));
    resumed.close();
  });

  it('resumes from an unknown Last-Event-ID by its time, without dropping later notifications', async () => {
    const first = (await api(url, 'POST', '/publish', { topic_id: 'alerts', message: 'before' })).body;
    await new Promise((r) => setTimeout(r, 5));
    const later = (await api(url, 'POST', '/publish', { topic_id: 'alerts', message: 'after' })).body;
    // An id of the same time that dana never received (e.g. expired): resume by its timestamp.
    const unknown = `${first.id.slice(0, 14)}7000-8000-000000000000`;
    const s = openStream(url, 'dana', unknown);
    await s.opened;
    await waitFor(() => s.ids().includes(later.id), 10_000, 'the later notification');
    s.close();
    expect(s.ids()).toContain(first.id);
    expect(new Set(s.ids()).size).toBe(s.ids().length);
  });
});
