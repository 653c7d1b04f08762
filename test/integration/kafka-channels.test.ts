/**
 * Channel workers on the kafka profile through the real CLI: one `herald job`, one `herald edge`
 * and two `herald channel sms` (members of one consumer group, one provider budget in Redis), with
 * subscriptions, channel settings and delivery statuses in MySQL. The SMS provider (a local HTTP
 * peer honouring Idempotency-Key) allows 10 requests per sliding second, 429 with Retry-After above.
 *
 * Midway, one channel worker is killed with SIGKILL (no drain), then restarted. Proves: every user
 * gets exactly one SMS (a send the provider accepted before the crash and that was not recorded is
 * replayed with the same Idempotency-Key and deduplicated by the provider); both workers together
 * stay within the shared budget; the statuses are in MySQL, readable from the edge.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { api, waitFor } from '../helpers/http.ts';
import { RoleCluster } from '../helpers/role-cluster.ts';
import { uniqueName } from '../helpers/services.ts';

const USERS = 240;
const RATE = 10;

describe('channel workers on the kafka profile: two sms workers, one killed midway', () => {
  const cluster = new RoleCluster('kafka-channels');
  let passed = false;
  afterAll(() => cluster.close(passed), 60_000);

  it('sends each SMS once within the shared budget across a worker crash', async () => {
    const sms = await cluster.startWithSms(RATE);
    sms.setRateLimit(RATE, 1);
    const [, edge] = await Promise.all([cluster.spawn('job', 'job-1'), cluster.spawn('edge', 'edge-1')]);
    const workers = await Promise.all([cluster.spawn('channel', 'sms-1', ['sms']), cluster.spawn('channel', 'sms-2', ['sms'])]);

    const run = uniqueName('ch');
    const topic = `${run}-alerts`;
    const user = (i: number) => `${run}-u${i}`;
    const phone = (i: number) => `+1415557${String(i).padStart(4, '0')}`;
    for (let i = 0; i < USERS; i += 40) {
      await Promise.all(
        Array.from({ length: 40 }, async (_, k) => {
          const n = i + k;
          expect((await api(edge!.url, 'PUT', `/users/${user(n)}/channels`, { phone: phone(n) })).status).toBe(200);
          expect((await api(edge!.url, 'POST', '/subscribe', { topic_id: topic, user_id: user(n) })).status).toBe(200);
        }),
      );
    }
    const pub = await api(edge!.url, 'POST', '/publish', { topic_id: topic, message: 'Storm warning', channels: ['sms'], critical: true });
    expect(pub.status).toBe(202);
    const id = pub.body.id as string;

    // Kill one worker once a fifth of the SMS went out, restart it 3 s later.
    await waitFor(() => sms.messages.length >= USERS / 5, 90_000, `${USERS / 5} SMS`, 100);
    await workers[0]!.kill();
    const killedAt = sms.messages.length;
    await new Promise((r) => setTimeout(r, 3_000));
    await cluster.spawn('channel', 'sms-1b', ['sms']);

    await waitFor(() => sms.messages.length >= USERS, 180_000, `${USERS} SMS`, 250);
    await new Promise((r) => setTimeout(r, 3_000));
    const per = new Map<string, number>();
    for (const m of sms.messages) per.set(m.to, (per.get(m.to) ?? 0) + 1);
    expect(per.size).toBe(USERS);
    expect([...per.values()].every((c) => c === 1)).toBe(true);
    // Requests that repeated an Idempotency-Key already accepted (replays after the crash) were deduplicated by the provider.
    const accepted = new Set(sms.messages.map((m) => m.idempotencyKey));
    expect(accepted.size).toBe(USERS);
    const replays = sms.requests.filter((r) => r.status >= 200 && r.status < 300).length - USERS;

    // One budget for both workers (Redis): the provider had to refuse little.
    const refused = sms.requests.filter((r) => r.status === 429).length;
    expect(refused).toBeLessThan(USERS * 0.1);

    // Statuses in MySQL, read through the edge.
    for (const n of [0, USERS / 2, USERS - 1]) {
      await waitFor(async () => (await api(edge!.url, 'GET', `/notifications/${id}/deliveries?user_id=${user(n)}`)).body.deliveries?.[0]?.state === 'sent', 10_000, `status of ${user(n)}`);
    }
    console.log(`[kafka-channels] ${USERS} SMS via 2 workers (one killed after ${killedAt}): each once; provider 429s ${refused}; idempotent replays ${replays}`);
    passed = true;
  }, 300_000);
});
