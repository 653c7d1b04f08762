/**
 * In-app mutes end to end (embedded profile): a user who set `topics.<topic>.in_app: false`
 * neither finds that topic's notifications in GET /notifications nor receives them on a live
 * stream, while other users and other topics are untouched; a critical publish, or any publish on
 * a topic marked critical, reaches the user anyway, with the same JSON live as from the inbox.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { useHerald } from '../helpers/herald.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { openStream, type StreamCollector } from '../helpers/sse-client.ts';

describe('in-app preferences (embedded profile)', () => {
  let url: string;
  useHerald({ HERALD_LOG_LEVEL: 'warn' }, (started) => void ({ url } = started));
  const streams: StreamCollector[] = [];
  afterAll(() => {
    for (const s of streams) s.close();
  });

  const publish = async (topic: string, text: string, extra: Record<string, unknown> = {}) => {
    const r = await api(url, 'POST', '/publish', { topic_id: topic, message: { text }, ...extra });
    expect(r.status).toBe(202);
    return r.body.id as string;
  };

  it('hides a muted topic from the inbox and the stream, unless critical; other users and topics are untouched', async () => {
    for (const user of ['ia-ann', 'ia-bob']) for (const topic of ['ia-promo', 'ia-news', 'ia-alarms']) expect((await api(url, 'POST', '/subscribe', { topic_id: topic, user_id: user })).status).toBe(200);
    expect((await api(url, 'PUT', '/users/ia-ann/preferences', { topics: { 'ia-promo': { in_app: false }, 'ia-alarms': { in_app: false }, 'ia-news': { in_app: true } } })).status).toBe(200);
    expect((await api(url, 'PUT', '/topics/ia-alarms/settings', { critical: true })).status).toBe(200);
    const ann = openStream(url, 'ia-ann');
    const bob = openStream(url, 'ia-bob');
    streams.push(ann, bob);
    await Promise.all([ann.opened, bob.opened]);

    const sale = await publish('ia-promo', 'sale');
    const news = await publish('ia-news', 'news');
    const outage = await publish('ia-promo', 'outage', { critical: true });
    const fire = await publish('ia-alarms', 'fire');
    const last = await publish('ia-news', 'last');

    // Order holds per topic (one publish partition): once "outage" arrived, the earlier "sale" on
    // the same topic was decided too.
    const has = (s: StreamCollector, ids: string[]) => ids.every((id) => s.ids().includes(id));
    await waitFor(() => has(ann, [news, outage, fire, last]) && has(bob, [sale, news, outage, fire, last]), 15_000, 'notifications on both streams');
    await waitFor(async () => (await fetchAll(url, 'ia-ann')).length >= 4, 10_000, 'ann inbox');
    expect(ann.ids().sort()).toEqual([news, outage, fire, last].sort());
    expect(bob.ids().sort()).toEqual([sale, news, outage, fire, last].sort());
    const annInbox = await fetchAll(url, 'ia-ann');
    expect(annInbox.map((n) => n.id).sort()).toEqual([news, outage, fire, last].sort());
    expect((await fetchAll(url, 'ia-bob')).map((n) => n.id).sort()).toEqual([sale, news, outage, fire, last].sort());

    // The live event and the inbox entry are the same JSON: no internal critical marker leaks out.
    for (const id of [outage, fire]) {
      const live = ann.events.find((e) => e.lastEventId === id)!.data;
      expect(live).not.toHaveProperty('critical');
      expect(live).toEqual(annInbox.find((n) => n.id === id));
    }

    // Unmuting takes effect for the next publish.
    expect((await api(url, 'PUT', '/users/ia-ann/preferences', { topics: {} })).status).toBe(200);
    const back = await publish('ia-promo', 'back');
    await waitFor(() => ann.ids().includes(back), 15_000, 'unmuted topic delivered');
  });
});
