/**
 * Presence on the kafka profile with Redis: a user with an open stream is online in Redis under
 * the edge's URL, and stays online for the grace period after the stream closes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { connectRedis, redisReady } from '../../stores/redis/client.ts';
import { RedisPresenceStore } from '../../stores/redis/presence-store.ts';
import { waitFor } from '../helpers/http.ts';
import { startInProcess, tempDir } from '../helpers/herald.ts';
import { kafkaProfileEnv, redisUrl, uniqueName } from '../helpers/services.ts';

describe('presence in Redis (kafka profile)', () => {
  let app: HeraldApp;
  let url: string;
  const redis = connectRedis({ url: redisUrl() });
  const presence = new RedisPresenceStore(redis);
  beforeAll(async () => {
    await redisReady(redis);
    const dir = tempDir();
    ({ app, url } = await startInProcess(kafkaProfileEnv(dir, { HERALD_REDIS_URL: redisUrl() })));
  });
  afterAll(async () => {
    await app?.close();
    redis.disconnect();
  });

  it('marks a streaming user online, keeps the grace after the stream closes, and knows nobody else', async () => {
    const user = uniqueName('pat');
    // The stream may be redirected (307) to the owning edge or refused (503) while partitions are assigned.
    let res: Response | null = null;
    await waitFor(async () => {
      res = await fetch(`${url}/stream?user_id=${user}`);
      if (res.status === 200) return true;
      await res.body?.cancel();
      return false;
    }, 30_000, 'the stream to open');
    await waitFor(async () => (await presence.onlineOf([user])).has(user), 5_000, 'presence online');
    expect(await presence.onlineOf([user, uniqueName('nobody')])).toEqual(new Set([user]));
    await res!.body!.cancel();
    await new Promise((r) => setTimeout(r, 300));
    expect((await presence.onlineOf([user])).has(user)).toBe(true); // within the 15 s grace
  });
});
