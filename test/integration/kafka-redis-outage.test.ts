/**
 * Redis killed in the middle of a run (kafka profile, MySQL subscriptions behind the Redis cache,
 * ownership and presence in Redis): publishing and delivery go on from MySQL, nothing accepted is
 * lost, and everything works again once Redis is back.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { ROOT, startInProcess, tempDir } from '../helpers/herald.ts';
import { freshMysqlDatabases, kafkaProfileEnv, redisUrl, uniqueName } from '../helpers/services.ts';

const services = (...args: string[]) => execFileSync(path.join(ROOT, 'scripts/services.sh'), args, { stdio: 'pipe', timeout: 60_000 }).toString();

describe('Redis outage mid-run (kafka profile)', () => {
  let app: HeraldApp;
  let url: string;
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const dir = tempDir();
    const dbs = await freshMysqlDatabases(1);
    drop = dbs.drop;
    ({ app, url } = await startInProcess(kafkaProfileEnv(dir, {
      HERALD_MYSQL_SHARDS: dbs.urls.join(','),
      HERALD_REDIS_URL: redisUrl(),
    })));
  });
  afterAll(async () => {
    services('up', 'redis'); // whatever happened, leave Redis running for the next tests
    await app?.close();
    await drop();
  });

  it('loses nothing while Redis is down and after it returns', async () => {
    const topic = uniqueName('outage');
    const users = ['u1', 'u2', 'u3'].map((u) => uniqueName(u));
    for (const u of users) expect((await api(url, 'POST', '/subscribe', { topic_id: topic, user_id: u })).status).toBe(200);
    const accepted: string[] = [];
    const publish = async (n: number, label: string) => {
      for (let i = 0; i < n; i++) {
        const r = await api(url, 'POST', '/publish', { topic_id: topic, message: `${label} ${i}` }, { 'idempotency-key': `${label}-${i}` });
        expect(r.status).toBe(202);
        accepted.push(r.body.id);
      }
    };
    await publish(30, 'before');
    services('down', 'redis');
    await publish(30, 'during');
    // A subscription made while Redis is down is honoured too (MySQL is the source of truth).
    const late = uniqueName('late');
    expect((await api(url, 'POST', '/subscribe', { topic_id: topic, user_id: late })).status).toBe(200);
    const lateOne = await api(url, 'POST', '/publish', { topic_id: topic, message: 'for late too' });
    accepted.push(lateOne.body.id);
    services('up', 'redis');
    await publish(30, 'after');
    for (const u of users) {
      await waitFor(async () => (await fetchAll(url, u)).length >= accepted.length, 60_000, `${u} to get all ${accepted.length}`);
      const got = (await fetchAll(url, u)).map((n) => n.id);
      expect(got).toEqual(accepted);
    }
    await waitFor(async () => (await fetchAll(url, late)).length >= 31, 30_000, 'late to get the rest');
    expect((await fetchAll(url, late)).map((n) => n.id)).toEqual(accepted.slice(accepted.indexOf(lateOne.body.id)));
  });
});
