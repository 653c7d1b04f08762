/**
 * HBase stopped for 30 s in the middle of a run (kafka profile, inbox in HBase): publishes are
 * still accepted (they go to Kafka), the edge stops committing the user log while it cannot store
 * (backpressure: the same batches are handed again after a backoff), and once HBase is back every
 * accepted notification is in every subscriber's inbox, once, in order.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldApp } from '../../jobs/app.ts';
import { dropHBaseInboxTable } from '../../stores/hbase/inbox-store.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { ROOT, startInProcess, tempDir } from '../helpers/herald.ts';
import { hbaseRestUrl, kafkaProfileEnv, uniqueName } from '../helpers/services.ts';

const services = (...args: string[]) => execFileSync(path.join(ROOT, 'scripts/services.sh'), args, { stdio: 'pipe', timeout: 240_000 }).toString();

describe('HBase outage mid-run (kafka profile)', () => {
  let app: HeraldApp;
  let url: string;
  const table = uniqueName('inbox').replaceAll('-', '_');
  beforeAll(async () => {
    const dir = tempDir();
    ({ app, url } = await startInProcess(kafkaProfileEnv(dir, {
      HERALD_HBASE_REST_URL: hbaseRestUrl(),
      HERALD_HBASE_INBOX_TABLE: table,
    })));
  });
  afterAll(async () => {
    services('up', 'hbase'); // leave HBase running for the next tests, whatever happened
    await app?.close();
    await dropHBaseInboxTable(hbaseRestUrl(), table).catch(() => {});
  });

  it('loses nothing while HBase is down for 30 s, and delivery resumes when it is back', async () => {
    const topic = uniqueName('hb');
    const users = ['a', 'b'].map((u) => uniqueName(u));
    for (const u of users) expect((await api(url, 'POST', '/subscribe', { topic_id: topic, user_id: u })).status).toBe(200);
    const accepted: string[] = [];
    const publish = async (n: number, label: string) => {
      for (let i = 0; i < n; i++) {
        const r = await api(url, 'POST', '/publish', { topic_id: topic, message: `${label} ${i}` });
        expect(r.status).toBe(202);
        accepted.push(r.body.id);
      }
    };
    await publish(20, 'before');
    for (const u of users) await waitFor(async () => (await fetchAll(url, u)).length === 20, 30_000, `${u} to get the first 20`);
    const stoppedAt = Date.now();
    services('down', 'hbase');
    await publish(20, 'during');
    const inboxDown = await api(url, 'GET', `/notifications?user_id=${users[0]}`);
    expect(inboxDown.status).toBe(503); // the inbox cannot be read either: a retriable error, not a crash
    while (Date.now() - stoppedAt < 30_000) {
      await publish(5, 'during');
      await new Promise((r) => setTimeout(r, 2_000));
    }
    services('up', 'hbase');
    await publish(20, 'after');
    for (const u of users) {
      await waitFor(async () => (await fetchAll(url, u)).length >= accepted.length, 90_000, `${u} to get all ${accepted.length}`);
      expect((await fetchAll(url, u)).map((n) => n.id)).toEqual(accepted);
    }
  }, 300_000);
});
