/**
 * Read-your-writes of subscriptions across instances (MySQL + the Redis cache): two Herald
 * processes-in-one (each job + edge) share the broker, MySQL and Redis. A subscribe on one edge
 * followed at once by a publish on the other reaches the user; an unsubscribe followed at once by
 * a publish does not, though the topic's subscribers were cached in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { startInProcess, tempDir } from '../helpers/herald.ts';
import { freshMysqlDatabases, isolatedTopology, kafkaBrokers, redisUrl, uniqueName } from '../helpers/services.ts';

describe('subscribe / unsubscribe then publish at once, across instances (MySQL + Redis cache)', () => {
  const apps: HeraldApp[] = [];
  const urls: string[] = [];
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const shared = tempDir();
    const topology = isolatedTopology(shared);
    const dbs = await freshMysqlDatabases(2);
    drop = dbs.drop;
    for (let i = 0; i < 2; i++) {
      const { app, url } = await startInProcess({
        HERALD_PROFILE: 'kafka',
        HERALD_KAFKA_BROKERS: kafkaBrokers(),
        HERALD_TOPOLOGY: topology,
        HERALD_DATA_DIR: tempDir(),
        HERALD_SHARED_STORE_DIR: shared,
        HERALD_MYSQL_SHARDS: dbs.urls.join(','),
        HERALD_REDIS_URL: redisUrl(),
      });
      apps.push(app);
      urls.push(url);
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await drop();
  });

  it('honours every change in the very next publish', async () => {
    const [a, b] = urls as [string, string];
    const topic = uniqueName('rw');
    const user = uniqueName('u');
    // A bystander keeps the topic's subscriber list non-empty and cached between rounds.
    await api(a, 'POST', '/subscribe', { topic_id: topic, user_id: 'bystander' });
    const expected: string[] = [];
    const unexpected: string[] = [];
    for (let round = 0; round < 10; round++) {
      const [subEdge, pubEdge] = round % 2 === 0 ? [a, b] : [b, a];
      expect((await api(subEdge, 'POST', '/subscribe', { topic_id: topic, user_id: user })).status).toBe(200);
      const yes = await api(pubEdge, 'POST', '/publish', { topic_id: topic, message: `after subscribe ${round}` });
      expected.push(yes.body.id);
      expect((await api(pubEdge, 'DELETE', '/subscribe', { topic_id: topic, user_id: user })).status).toBe(200);
      const no = await api(subEdge, 'POST', '/publish', { topic_id: topic, message: `after unsubscribe ${round}` });
      unexpected.push(no.body.id);
    }
    await waitFor(async () => (await fetchAll(a, 'bystander')).length >= 20, 60_000, 'the bystander to get all 20');
    // The bystander's inbox says the fan-out is done, not that the edge owning the user's
    // partition has written it. A marker on a topic of the user's own, published last, lands in
    // the same user partition after every earlier record: once it is in, nothing is in flight.
    const markerTopic = uniqueName('rw-marker');
    await api(a, 'POST', '/subscribe', { topic_id: markerTopic, user_id: user });
    const marker = (await api(b, 'POST', '/publish', { topic_id: markerTopic, message: 'marker' })).body.id as string;
    await waitFor(async () => (await fetchAll(b, user)).some((n) => n.id === marker), 60_000, 'the marker to reach the user');
    const got = (await fetchAll(b, user)).map((n) => n.id).filter((id) => id !== marker);
    expect(got).toEqual(expected);
    expect(got.filter((id) => unexpected.includes(id))).toEqual([]);
  });
});
