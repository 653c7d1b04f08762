/**
 * `herald dlq replay` on the kafka profile, beside running workers: `herald job`, `herald edge`
 * and one `herald channel sms`, statuses in MySQL (two shards). The SMS provider refuses 5 of 20
 * numbers for good (HTTP 400: dead letters, status failed); once it accepts them, the replay runs
 * as its own process while the worker keeps running. Proves: exactly the 5 dead-lettered SMS go
 * out, once each, under new idempotency keys; the sent 15 are not touched; a second replay (and a
 * dry run) finds nothing left; the DLQ keeps its letters (a replay moves no offsets).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DlqReplayReport } from '../../jobs/dlq-replay.ts';
import { runHeraldCli } from '../helpers/herald.ts';
import { api, waitFor } from '../helpers/http.ts';
import { RoleCluster } from '../helpers/role-cluster.ts';
import { uniqueName } from '../helpers/services.ts';

const USERS = 20;
const REFUSED = 5;

describe('herald dlq replay on the kafka profile, beside a running sms worker', () => {
  const cluster = new RoleCluster('kafka-dlq-replay');
  let passed = false;
  afterAll(() => cluster.close(passed), 60_000);

  it('sends exactly the dead-lettered SMS again, once each, and nothing on a second run', async () => {
    const sms = await cluster.startWithSms(100);
    const env = cluster.env;
    const [, edge] = await Promise.all([cluster.spawn('job', 'job-1'), cluster.spawn('edge', 'edge-1'), cluster.spawn('channel', 'sms-1', ['sms'])]);
    const replay = async (...args: string[]): Promise<DlqReplayReport> => {
      const out = await runHeraldCli(['dlq', 'replay', 'sms', '--json', ...args], { ...env, HERALD_DATA_DIR: path.join(cluster.dir, 'replay'), HERALD_LOG_LEVEL: 'warn' });
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout) as DlqReplayReport;
    };

    const run = uniqueName('dlq');
    const user = (i: number) => `${run}-u${i}`;
    const phone = (i: number) => `+1415558${String(i).padStart(4, '0')}`;
    for (let i = 0; i < REFUSED; i++) sms.rejectNumber(phone(i), 'sender id not registered');
    await Promise.all(
      Array.from({ length: USERS }, async (_, i) => {
        expect((await api(edge!.url, 'PUT', `/users/${user(i)}/channels`, { phone: phone(i) })).status).toBe(200);
        expect((await api(edge!.url, 'POST', '/subscribe', { topic_id: `${run}-t`, user_id: user(i) })).status).toBe(200);
      }),
    );
    const pub = await api(edge!.url, 'POST', '/publish', { topic_id: `${run}-t`, message: 'Gate changed to B12', channels: ['sms'] });
    expect(pub.status).toBe(202);
    const id = pub.body.id as string;
    const state = async (i: number) => (await api(edge!.url, 'GET', `/notifications/${id}/deliveries?user_id=${user(i)}`)).body.deliveries?.[0]?.state as string | undefined;
    await waitFor(async () => (await Promise.all(Array.from({ length: USERS }, (_, i) => state(i)))).every((s, i) => s === (i < REFUSED ? 'failed' : 'sent')), 90_000, '15 sent, 5 failed', 250);
    expect(sms.messages).toHaveLength(USERS - REFUSED);

    // Fixed at the provider; the replay runs while the worker keeps running.
    for (let i = 0; i < REFUSED; i++) sms.acceptNumber(phone(i));
    expect(await replay('--dry-run')).toMatchObject({ dryRun: true, letters: REFUSED, replayed: REFUSED, reopened: REFUSED });
    const first = await replay();
    expect(first).toMatchObject({ dryRun: false, letters: REFUSED, replayed: REFUSED, reopened: REFUSED, byCode: { HTTP_400: { letters: REFUSED, replayed: REFUSED } } });

    await waitFor(async () => (await Promise.all(Array.from({ length: REFUSED }, (_, i) => state(i)))).every((s) => s === 'sent'), 60_000, 'replayed SMS sent', 250);
    await new Promise((r) => setTimeout(r, 2_000));
    const per = new Map<string, number>();
    for (const m of sms.messages) per.set(m.to, (per.get(m.to) ?? 0) + 1);
    expect(per.size).toBe(USERS);
    expect([...per.values()].every((c) => c === 1)).toBe(true);
    for (let i = 0; i < REFUSED; i++) expect(sms.messages.find((m) => m.to === phone(i))!.idempotencyKey).toMatch(new RegExp(`^${id}:${user(i)}:sms:replay:\\d+:\\d+$`));

    // Nothing left: the letters stay in the DLQ, their sends are settled.
    expect(await replay()).toMatchObject({ letters: REFUSED, replayed: 0, reopened: 0, skipped: { settled: REFUSED } });
    expect(sms.messages).toHaveLength(USERS);
    console.log(`[kafka-dlq-replay] ${REFUSED} of ${USERS} SMS dead-lettered, replayed beside the worker, each sent once; a second replay sent nothing`);
    passed = true;
  }, 240_000);
});
