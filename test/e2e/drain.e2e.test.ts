/**
 * Graceful drain on SIGTERM (a real `herald start` child process): open streams are told to
 * reconnect (`retry:`) and closed, the process commits its offsets and exits 0 within the drain
 * deadline, and a restart re-reads nothing (no record processed twice).
 */
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, spawnHerald, tempDir, type HeraldChild } from '../helpers/herald.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';

function metric(text: string, name: string, stage: string): number {
  return Number(new RegExp(`^${name}\\{stage="${stage}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

describe('drain on SIGTERM', () => {
  const children: HeraldChild[] = [];
  afterAll(async () => {
    for (const c of children) await c.kill().catch(() => {});
  });

  it('tells streams to reconnect, commits offsets and exits 0 within the deadline; a restart re-reads nothing', async () => {
    const dir = tempDir();
    const port = await freePort();
    const first = await spawnHerald(dir, port, { HERALD_DRAIN_TIMEOUT_MS: '10000' });
    children.push(first);
    await api(first.url, 'POST', '/subscribe', { topic_id: 'news', user_id: 'ada' });
    for (let i = 0; i < 5; i++) await api(first.url, 'POST', '/publish', { topic_id: 'news', message: `n${i}` });
    await waitFor(async () => (await fetchAll(first.url, 'ada')).length === 5, 15_000, 'the 5 notifications');

    let text = '';
    let ended = false;
    await new Promise<void>((resolve, reject) => {
      http.get(`${first.url}/stream?user_id=ada`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          if (text.includes(': connected')) resolve();
        });
        res.on('end', () => (ended = true));
        res.on('error', () => {});
      }).on('error', reject);
    });

    const started = Date.now();
    const code = await first.stop();
    const tookMs = Date.now() - started;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    expect(ended).toBe(true);
    // The last frame tells the client when to reconnect.
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^retry: \d+$/);
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow(); // no longer listening

    const second = await spawnHerald(dir, port);
    children.push(second);
    // Give the stages time to fetch anything left uncommitted, then check nothing came back.
    await new Promise((r) => setTimeout(r, 1_500));
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metric(metrics, 'herald_stage_records_in_total', 'fanout')).toBe(0);
    expect(metric(metrics, 'herald_stage_records_in_total', 'edge')).toBe(0);
    expect((await fetchAll(second.url, 'ada')).length).toBe(5);
    expect(await second.stop()).toBe(0);
  });
});
