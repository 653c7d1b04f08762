/**
 * A topic that grows past the inline fan-out limit, end to end over real HTTP: the default
 * topology with small thresholds (max_inline_subscribers 30, 8 buckets, pages of 4), so the
 * paged path (fanout → herald.fanout-pages → fanout-pages stage) runs with few users. Publishes
 * before, while and after the topic is paged reach exactly the users subscribed at publish time,
 * once, in publish order, including across the switch to paged fan-out and after most users
 * left again (a paged topic stays paged).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';

/**
 * Writes a copy of `topologyFile` into `dir` with the paging thresholds lowered.
 * @returns the new file's path
 */
export function smallPagingTopology(topologyFile: string, dir: string): string {
  const text = fs.readFileSync(topologyFile, 'utf8');
  const out = text
    .replace(/max_inline_subscribers: 10000/g, 'max_inline_subscribers: 30')
    .replace(/page_size: 5000/g, 'page_size: 4')
    .replace(/buckets: 256/g, 'buckets: 8');
  if (out === text || !out.includes('buckets: 8') || !out.includes('max_inline_subscribers: 30')) throw new Error(`${topologyFile} has no paging options to lower`);
  const file = path.join(dir, 'topology-small-paging.yaml');
  fs.writeFileSync(file, out);
  return file;
}

/**
 * Registers the scenario against the Herald that `start` runs with the topology file it is given
 * (made by {@link smallPagingTopology}): the same assertions on every profile.
 */
export function describeLargeTopicScenario(profile: string, start: () => Promise<{ app: HeraldApp; url: string }>): void {
  describe(`a topic outgrowing inline fan-out (${profile} profile)`, () => {
    let app: HeraldApp;
    let url: string;
    beforeAll(async () => {
      ({ app, url } = await start());
    });
    afterAll(async () => {
      await app?.close();
    });

    it('delivers every publish once, in order, to exactly the users subscribed at publish time, before and after the topic is paged', async () => {
      const pagesRecordsOut = async () => {
        const metrics = String((await api(url, 'GET', '/metrics')).body);
        return Number(/^herald_stage_records_out_total\{stage="fanout-pages"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
      };
      const pagesOutBefore = await pagesRecordsOut();
      const topic = 'crowd';
      const users = Array.from({ length: 45 }, (_, i) => `fan-${String(i).padStart(2, '0')}`);
      /** user → ids expected, in publish order. */
      const expected = new Map<string, string[]>(users.map((u) => [u, []]));
      const subscribed = new Set<string>();
      const publish = async (message: string) => {
        const r = await api(url, 'POST', '/publish', { topic_id: topic, message });
        expect(r.status).toBe(202);
        for (const u of subscribed) expected.get(u)!.push(r.body.id);
      };
      const subscribe = async (list: string[]) => {
        for (const u of list) {
          expect((await api(url, 'POST', '/subscribe', { topic_id: topic, user_id: u })).status).toBe(200);
          subscribed.add(u);
        }
      };

      await subscribe(users.slice(0, 25)); // 25 ≤ 30: inline
      await publish('inline 1');
      await publish('inline 2');
      // The inline/paged choice is made when the fan-out runs: let these two fan out first.
      await waitFor(async () => (await fetchAll(url, users[24]!)).length === 2, 30_000, 'the inline publishes');
      await subscribe(users.slice(25)); // 45 > 30: paged from now on
      for (let i = 1; i <= 5; i++) await publish(`paged ${i}`);
      for (const u of users.slice(5, 40)) {
        expect((await api(url, 'DELETE', '/subscribe', { topic_id: topic, user_id: u })).status).toBe(200);
        subscribed.delete(u);
      }
      await publish('still paged'); // 10 subscribers left, but the topic stays paged

      const total = [...expected.values()].reduce((n, ids) => n + ids.length, 0);
      expect(total).toBe(25 * 2 + 45 * 5 + 10);
      await waitFor(async () => {
        let n = 0;
        for (const u of users) n += (await fetchAll(url, u)).length;
        return n >= total;
      }, 60_000, `all ${total} deliveries`);
      for (const u of users) {
        const got = (await fetchAll(url, u)).map((n: { id: string }) => n.id);
        expect(got, u).toEqual(expected.get(u));
      }
      // The paged path really ran: the fanout-pages stage wrote exactly the paged publishes'
      // user-log records (the counter is per process: compare with its value at the start).
      expect((await pagesRecordsOut()) - pagesOutBefore).toBe(45 * 5 + 10);
    });
  });
}
