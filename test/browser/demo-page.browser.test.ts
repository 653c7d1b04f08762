/**
 * The demo page (edge/public/) in headless Chromium: Debian's /usr/bin/chromium driven by
 * playwright-core (`npm run test:browser`, which runs scripts/setup-browser.sh first), against
 * Herald as a child process (`herald start`, embedded profile) on a fixed port and data dir.
 *
 * Through the page's own UI: connect as ada, subscribe to news, publish; the notification appears
 * live. Three more are published through the API. Herald is stopped (SIGTERM) and started again
 * on the same port and data dir; three more are published as soon as it is healthy, while the
 * page's stream requests are still held back (page.route), so they can only arrive by resuming
 * from Last-Event-ID. The page must show "reconnecting" during the outage, then "live", and end
 * with exactly the 7 notifications in publish order, each received exactly once from the server
 * (the page counts raw SSE events per id in window.heraldDemo.rawCounts, before its own
 * de-duplication).
 */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnHerald, tempDir, type HeraldChild } from '../helpers/herald.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { DEMO_PAGE_CSP } from '../../edge/routes/demo-page.ts';

const CHROMIUM = '/usr/bin/chromium';
const USER = 'ada';
const TOPIC = 'news';

/** What the page exposes for tests (app.js: window.heraldDemo). */
interface DemoState {
  rawCounts: Record<string, number>;
  states: string[];
  duplicates: number;
}

let dataDir = '';
let port = 0;
let herald: HeraldChild | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-browser.sh (npm run test:browser does).`);
  dataDir = tempDir('herald-browser-');
  port = await freePort();
  [herald, browser] = await Promise.all([
    spawnHerald(dataDir, port),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await herald?.kill();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const demoState = (page: Page): Promise<DemoState> =>
  page.evaluate(() => {
    const d = (globalThis as any).heraldDemo;
    return { rawCounts: { ...d.rawCounts }, states: [...d.states], duplicates: d.duplicates };
  });

const liveIds = (page: Page): Promise<string[]> => page.locator('#live li').evaluateAll((lis) => lis.map((li) => (li as any).dataset.id as string));

const connectionState = (page: Page) => page.locator('#connection-state').getAttribute('data-state');

/** Waits until the page's connection state is `state`. */
const waitForState = (page: Page, state: string, timeout = 15_000) =>
  page.waitForSelector(`#connection-state[data-state="${state}"]`, { timeout });

/** Waits until the live list has `n` notifications. */
async function waitForLive(page: Page, n: number, timeout = 15_000): Promise<void> {
  try {
    await page.waitForFunction((count) => (globalThis as any).document.querySelectorAll('#live li').length >= count, n, { timeout });
  } catch (err) {
    const d = await demoState(page);
    throw new Error(`the live list did not reach ${n} notifications: ${JSON.stringify(await liveIds(page))}; states ${d.states.join(' → ')}`, { cause: err });
  }
}

/** A stream request of the page, as page.route saw it. */
interface StreamRequest {
  url: string;
  outcome: StreamMode;
}
/** pass: to the edge; abort: connection refused (network error); refuse-once: one 503, then pass. */
type StreamMode = 'pass' | 'abort' | 'refuse-once';

/** Intercepts the page's GET /stream requests: records them, and refuses them on demand. */
async function controlStreams(page: Page): Promise<{ mode: StreamMode; requests: StreamRequest[] }> {
  const control = { mode: 'pass' as StreamMode, requests: [] as StreamRequest[] };
  await page.route('**/stream?*', async (route) => {
    const request = route.request();
    const outcome = control.mode;
    control.requests.push({ url: request.url(), outcome });
    if (outcome === 'abort') return route.abort('connectionrefused');
    if (outcome === 'refuse-once') {
      control.mode = 'pass';
      const body = JSON.stringify({ error: { code: 'HERALD_EDGE_UNAVAILABLE', message: 'refused by the test' } });
      return route.fulfill({ status: 503, contentType: 'application/json; charset=utf-8', body });
    }
    return route.continue();
  });
  return control;
}

/** Publishes through the API (not the page); returns the notification id. */
async function publish(message: string, topic = TOPIC): Promise<string> {
  const r = await api(herald!.url, 'POST', '/publish', { topic_id: topic, message });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id as string;
}

describe('demo page in headless Chromium', () => {
  it('receives live, resumes after an edge restart with no gap and no duplicate', async () => {
    const started = Date.now();
    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    const cspViolations: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (/Content.Security.Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });

    // While held ('abort'), the page's stream requests are refused as if the edge were still
    // down: the notifications published right after the restart then reach the page only through
    // the resume (Last-Event-ID), never live, so a gap cannot hide behind a fast reconnect.
    const streams = await controlStreams(page);

    const response = await page.goto(`${herald!.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(DEMO_PAGE_CSP);
    expect(await connectionState(page)).toBe('closed');

    // Through the page: connect, subscribe, publish.
    await page.getByLabel('User id').fill(USER);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'live');
    await page.locator('#subscribe-topic').fill(TOPIC);
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await page.waitForFunction(() => (globalThis as any).document.getElementById('subscriptions').textContent.includes('ada → news'));
    await page.locator('#publish-topic').fill(TOPIC);
    await page.getByLabel('Message').fill('hello from the page');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForSelector('#publish-result[data-id]');
    const firstId = (await page.locator('#publish-result').getAttribute('data-id'))!;
    expect(firstId).toMatch(/^[0-9a-f-]{36}$/);
    await waitForLive(page, 1);
    expect(await liveIds(page)).toEqual([firstId]);
    expect(await page.locator('#live li').first().textContent()).toContain('hello from the page');

    const published = [firstId];
    for (let i = 1; i <= 3; i++) published.push(await publish(`before restart ${i}`));
    await waitForLive(page, 4);

    // Restart the edge on the same port and data dir; nothing is published while it is down.
    streams.mode = 'abort';
    const stopped = Date.now();
    expect(await herald!.stop()).toBe(0);
    await waitForState(page, 'reconnecting', 5_000);
    // At least one retry fails while Herald is down (the page counts attempts).
    await page.waitForFunction(() => (globalThis as any).heraldDemo.states.includes('reconnecting (attempt 2)'), undefined, { timeout: 10_000 });
    expect(await connectionState(page)).toBe('reconnecting');
    herald = await spawnHerald(dataDir, port);
    const restarted = Date.now();
    for (let i = 1; i <= 3; i++) published.push(await publish(`after restart ${i}`));
    // Let them reach ada's inbox before the page may reconnect: from then on only a resume
    // (Last-Event-ID) can bring them, no live delivery.
    await waitFor(async () => (await fetchAll(herald!.url, USER)).length === 7, 15_000, "ada's inbox to hold 7 notifications");
    expect(await liveIds(page)).toHaveLength(4);
    const inboxCaughtUp = Date.now();
    streams.mode = 'pass';

    await waitForState(page, 'live');
    await waitForLive(page, 7);
    // EventSource's own retries (held, then through) resumed it: the page opened no new stream,
    // so the Last-Event-ID header did it (page.route cannot see that header; the 3 notifications
    // that reached the page only by a resume, and no repeat of the 4 before, show it).
    expect(streams.requests.map((r) => r.outcome)).toContain('abort');
    expect(streams.requests.every((r) => !new URL(r.url).searchParams.has('last_event_id'))).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000)); // ms: room for a late duplicate to show up
    expect(await liveIds(page)).toEqual(published);
    const demo = await demoState(page);
    expect(demo.rawCounts).toEqual(Object.fromEntries(published.map((id) => [id, 1])));
    expect(demo.duplicates).toBe(0);
    const firstLive = demo.states.indexOf('live');
    const reconnecting = demo.states.indexOf('reconnecting (attempt 1)', firstLive);
    expect(firstLive).toBeGreaterThan(-1);
    expect(reconnecting).toBeGreaterThan(firstLive);
    expect(demo.states.at(-1)).toBe('live');

    // The missed-notifications button reads the inbox: the same 7, oldest first.
    await page.getByRole('button', { name: 'Fetch missed notifications' }).click();
    await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll('#missed-list li').length === n, published.length);
    expect(await page.locator('#missed-list li').evaluateAll((lis) => lis.map((li) => (li as any).dataset.id as string))).toEqual(published);

    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    console.log(
      `demo page restart scenario: ${Date.now() - started} ms (Herald down ${restarted - stopped} ms, inbox caught up ${inboxCaughtUp - restarted} ms after the restart); states: ${demo.states.join(' → ')}`,
    );
    await page.close();
  });

  it('resumes from ?last_event_id after Disconnect/Connect and after a refused (503) reconnect', async () => {
    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const streams = await controlStreams(page);
    await page.goto(`${herald!.url}/`);
    await page.getByLabel('User id').fill('grace');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'live');
    await page.locator('#subscribe-topic').fill('sports');
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await page.waitForFunction(() => (globalThis as any).document.getElementById('subscriptions').textContent.includes('grace → sports'));
    const published = [await publish('first', 'sports')];
    await waitForLive(page, 1);

    await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
    expect(await connectionState(page)).toBe('closed');
    for (let i = 1; i <= 2; i++) published.push(await publish(`while disconnected ${i}`, 'sports'));
    await waitFor(async () => (await fetchAll(herald!.url, 'grace')).length === 3, 15_000, "grace's inbox to hold 3 notifications");

    // Connect again; the edge refuses the first request (503): EventSource gives up (CLOSED) and
    // the page retries itself, from the last id it received.
    streams.mode = 'refuse-once';
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'reconnecting');
    expect(await page.locator('#connection-detail').textContent()).toContain('refused');
    await waitForState(page, 'live');
    await waitForLive(page, 3);
    await new Promise((r) => setTimeout(r, 500)); // ms: room for a late duplicate to show up
    expect(await liveIds(page)).toEqual(published);
    const demo = await demoState(page);
    expect(demo.rawCounts).toEqual(Object.fromEntries(published.map((id) => [id, 1])));
    const [refused, retried] = streams.requests.slice(-2);
    expect(refused!.outcome).toBe('refuse-once');
    expect(new URL(refused!.url).searchParams.get('last_event_id')).toBe(published[0]);
    expect(new URL(retried!.url).searchParams.get('last_event_id')).toBe(published[0]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

describe('demo page with auth on (publisher keys and user tokens)', () => {
  it('needs the credentials fields: without them refused, with them subscribe, publish, stream and fetch work', async () => {
    const key = 'demo-publisher-key-1';
    const dir = tempDir('herald-browser-auth-');
    const secured = await spawnHerald(dir, await freePort(), { HERALD_PUBLISHER_KEYS: key, HERALD_TOKEN_SECRET: 'x'.repeat(40) });
    const page = await browser!.newPage();
    try {
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(`${secured.url}/`); // the page itself is public
      await page.getByLabel('User id').fill('linus');

      // No credentials: the stream is refused (401) and the page keeps retrying; subscribe is refused.
      await page.getByRole('button', { name: 'Connect', exact: true }).click();
      await waitForState(page, 'reconnecting');
      await page.locator('#subscribe-topic').fill('kernel');
      await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
      await page.waitForFunction(() => (globalThis as any).document.getElementById('error').textContent.includes('HERALD_AUTH_REQUIRED'));

      // With a publisher key and linus's user token (minted by "his server"), everything works.
      const minted = await api(secured.url, 'POST', '/tokens', { user_id: 'linus' }, { authorization: `Bearer ${key}` });
      expect(minted.status, JSON.stringify(minted.body)).toBe(200);
      await page.locator('summary').click();
      await page.getByLabel('Publisher key').fill(key);
      await page.getByLabel('User token').fill(minted.body.token);
      await page.getByRole('button', { name: 'Connect', exact: true }).click();
      await waitForState(page, 'live');
      await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
      await page.waitForFunction(() => (globalThis as any).document.getElementById('subscriptions').textContent.includes('linus → kernel'));
      await page.locator('#publish-topic').fill('kernel');
      await page.getByLabel('Message').fill('with credentials');
      await page.getByRole('button', { name: 'Publish' }).click();
      await page.waitForSelector('#publish-result[data-id]');
      const id = (await page.locator('#publish-result').getAttribute('data-id'))!;
      await waitForLive(page, 1);
      expect(await liveIds(page)).toEqual([id]);
      await page.getByRole('button', { name: 'Fetch missed notifications' }).click();
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#missed-list li').length === 1);
      expect(await page.locator('#error').textContent()).toBe('');

      // The fields are kept in localStorage.
      await page.reload();
      expect(await page.getByLabel('Publisher key').inputValue()).toBe(key);
      expect(await page.getByLabel('User token').inputValue()).toBe(minted.body.token);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await secured.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
