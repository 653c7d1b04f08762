/**
 * End to end over real HTTP with a real EventSource client: 3 users, 2 topics, overlapping
 * subscriptions, 200 publishes of which 20 are retries with the same Idempotency-Key. Each user
 * receives exactly the notifications of their topics, once, in publish order per topic, live and
 * through GET /notifications; unsubscribe stops delivery; Last-Event-ID resumes exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { openStream, type StreamCollector } from '../helpers/sse-client.ts';
import type { HeraldApp } from '../../jobs/app.ts';

const SUBSCRIPTIONS: Record<string, string[]> = { alice: ['news'], bob: ['sports'], carol: ['news', 'sports'] };
const TOPICS = ['news', 'sports'];

/**
 * Registers the scenario against the Herald that `start` runs (the embedded profile in
 * test/e2e, the kafka profile in test/integration): the same assertions on every profile.
 */
export function describeNotificationScenario(profile: string, start: () => Promise<{ app: HeraldApp; url: string }>): void {
describe(`notification job end to end (${profile} profile)`, () => {
  let app: HeraldApp;
  let url: string;
  const streams: Record<string, StreamCollector> = {};
  /** Accepted notifications in publish order: id → topic. */
  const published: { id: string; topic: string; key: string; message: unknown }[] = [];

  beforeAll(async () => {
    ({ app, url } = await start());
    for (const [user, topics] of Object.entries(SUBSCRIPTIONS)) {
      for (const topic of topics) {
        const r = await api(url, 'POST', '/subscribe', { topic_id: topic, user_id: user });
        expect(r.status).toBe(200);
        expect(r.body).toEqual({ topic_id: topic, user_id: user });
      }
    }
    // Subscribing twice is idempotent.
    expect((await api(url, 'POST', '/subscribe', { topic_id: 'news', user_id: 'alice' })).status).toBe(200);
    for (const user of Object.keys(SUBSCRIPTIONS)) {
      streams[user] = openStream(url, user);
      await streams[user]!.opened;
    }
  });

  afterAll(async () => {
    for (const s of Object.values(streams)) s.close();
    await app?.close();
  });

  it('delivers 180 distinct publishes (+20 idempotent retries) exactly once, in order, live and by fetch', async () => {
    let retries = 0;
    for (let i = 0; i < 200; i++) {
      const isRetry = i % 10 === 9; // 20 retries
      const original = isRetry ? published[published.length - 1 - (i % 3)]! : null;
      const topic = original ? original.topic : TOPICS[i % 2]!;
      const key = original ? original.key : `pub-${i}`;
      // A retry resends the same request: same topic, same message, same key.
      const message = original ? original.message : i % 4 === 0 ? `plain text ${i}` : { n: i, text: `hello ${i}` };
      const r = await api(url, 'POST', '/publish', { topic_id: topic, message }, { 'idempotency-key': key });
      expect(r.status).toBe(202);
      expect(r.body.topic_id).toBe(topic);
      expect(r.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(r.body.published_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      if (original) {
        retries++;
        expect(r.body.id).toBe(original.id);
      } else {
        published.push({ id: r.body.id, topic, key, message });
      }
    }
    expect(retries).toBe(20);
    expect(published).toHaveLength(180);
    // The same key with a different message is refused, not silently answered with the old id.
    const reused = await api(url, 'POST', '/publish', { topic_id: published[0]!.topic, message: 'something else' }, { 'idempotency-key': published[0]!.key });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('HERALD_EDGE_IDEMPOTENCY_KEY_REUSED');

    const expectedFor = (user: string) => published.filter((p) => SUBSCRIPTIONS[user]!.includes(p.topic)).map((p) => p.id);
    for (const user of Object.keys(SUBSCRIPTIONS)) {
      const expected = expectedFor(user);
      await waitFor(() => streams[user]!.events.length >= expected.length, 20_000, `${user} to receive ${expected.length} events`);
    }
    // Give any stray duplicate a moment to show up before asserting exactness.
    await new Promise((r) => setTimeout(r, 300));

    for (const user of Object.keys(SUBSCRIPTIONS)) {
      const expected = expectedFor(user);
      const live = streams[user]!.ids();
      expect(new Set(live).size).toBe(live.length); // no duplicates
      expect([...live].sort()).toEqual([...expected].sort()); // exactly their topics
      for (const topic of SUBSCRIPTIONS[user]!) {
        const order = published.filter((p) => p.topic === topic).map((p) => p.id);
        expect(live.filter((id) => order.includes(id))).toEqual(order); // publish order per topic
      }
      // SSE data is the same object as GET /notifications returns.
      const first = streams[user]!.events[0]!;
      expect(first.data.id).toBe(first.lastEventId);
      expect(Object.keys(first.data).sort()).toEqual(['id', 'message', 'published_at', 'topic_id']);

      const fetched = await fetchAll(url, user, 37);
      const fetchedIds = fetched.map((n) => n.id);
      expect(new Set(fetchedIds).size).toBe(fetchedIds.length);
      expect([...fetchedIds].sort()).toEqual([...expected].sort());
      for (const topic of SUBSCRIPTIONS[user]!) {
        const order = published.filter((p) => p.topic === topic).map((p) => p.id);
        expect(fetchedIds.filter((id) => order.includes(id))).toEqual(order);
      }
    }
    // Messages keep their type: strings stay strings, objects stay objects.
    const aliceAll = await fetchAll(url, 'alice');
    expect(aliceAll.some((n) => typeof n.message === 'string' && n.message.startsWith('plain text'))).toBe(true);
    expect(aliceAll.some((n) => typeof n.message === 'object' && typeof n.message.n === 'number')).toBe(true);
  });

  it('GET /notifications honours since (ISO and epoch ms)', async () => {
    const all = await fetchAll(url, 'carol');
    const pivot = all[Math.floor(all.length / 2)]!;
    const pivotMs = Date.parse(pivot.published_at);
    const afterIso = await fetchAll(url, 'carol', 100, pivot.published_at);
    const afterMs = await fetchAll(url, 'carol', 100, String(pivotMs));
    const expected = all.filter((n) => Date.parse(n.published_at) > pivotMs).map((n) => n.id);
    expect(afterIso.map((n) => n.id)).toEqual(expected);
    expect(afterMs.map((n) => n.id)).toEqual(expected);
  });

  it('resumes a stream after Last-Event-ID with no gap and no duplicate, including what arrived while disconnected', async () => {
    const carol = streams.carol!;
    const seen = carol.ids();
    const resumeAfter = seen[99]!;
    carol.close();
    const whileAway: string[] = [];
    const awayTopic = new Map<string, string>();
    for (let i = 0; i < 5; i++) {
      const r = await api(url, 'POST', '/publish', { topic_id: TOPICS[i % 2], message: `while away ${i}` });
      whileAway.push(r.body.id);
      awayTopic.set(r.body.id, TOPICS[i % 2]!);
    }
    const resumed = openStream(url, 'carol', resumeAfter);
    streams.carol = resumed;
    await resumed.opened;
    const expected = [...seen.slice(100), ...whileAway];
    await waitFor(() => resumed.events.length >= expected.length, 15_000, 'resumed stream to catch up');
    await new Promise((r) => setTimeout(r, 200));
    // What was delivered before the disconnect comes back in delivery order; what arrived while
    // away follows, in publish order per topic (topics are independent partitions of the publish
    // log, so two topics may interleave either way).
    const got = resumed.ids();
    expect(got.slice(0, seen.length - 100)).toEqual(seen.slice(100));
    const tail = got.slice(seen.length - 100);
    expect([...tail].sort()).toEqual([...whileAway].sort());
    for (const topic of TOPICS) expect(tail.filter((id) => awayTopic.get(id) === topic)).toEqual(whileAway.filter((id) => awayTopic.get(id) === topic));
    // The last_event_id query parameter works the same way.
    const viaQuery = await fetch(`${url}/stream?user_id=carol&last_event_id=${seen[178]}`);
    const reader = viaQuery.body!.getReader();
    let text = '';
    while (!text.includes(whileAway[4]!)) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain(`id: ${seen[179]}\nevent: notification\ndata: `);
    expect(text).not.toContain(`id: ${seen[178]}\n`);
  });

  it('stops delivering a topic after unsubscribe', async () => {
    const r = await api(url, 'DELETE', '/subscribe', { topic_id: 'news', user_id: 'carol' });
    expect(r.status).toBe(200);
    const before = streams.carol!.events.length;
    const aliceBefore = streams.alice!.events.length;
    const p = await api(url, 'POST', '/publish', { topic_id: 'news', message: 'after unsubscribe' });
    await waitFor(() => streams.alice!.events.length > aliceBefore, 10_000, 'alice to get the news');
    await new Promise((r) => setTimeout(r, 300));
    expect(streams.alice!.ids()).toContain(p.body.id);
    expect(streams.carol!.events.length).toBe(before);
    expect((await fetchAll(url, 'carol')).map((n) => n.id)).not.toContain(p.body.id);
    // Sports still reaches carol.
    const s = await api(url, 'POST', '/publish', { topic_id: 'sports', message: 'still subscribed' });
    await waitFor(() => streams.carol!.ids().includes(s.body.id), 10_000, 'carol to get sports');
  });
});
}
