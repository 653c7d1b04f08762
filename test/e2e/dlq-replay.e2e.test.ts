/**
 * `herald dlq replay` on the embedded profile, as an operator runs it: the SMS provider refuses
 * two numbers for good (HTTP 400, the jobs end in herald.channel.dlq with status failed), the
 * cause is fixed, the job is stopped, the replay is previewed (--dry-run), filtered by code, run,
 * and the restarted job sends exactly the dead-lettered SMS, once each. A second replay finds
 * nothing left to send. The CLI refuses to run beside the job (it holds the data directory).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DlqReplayReport } from '../../jobs/dlq-replay.ts';
import { runHeraldCli, startInProcess, tempDir } from '../helpers/herald.ts';
import { api, waitFor } from '../helpers/http.ts';
import { startSmsPeer, type SmsPeer } from '../helpers/sms-peer.ts';

/** Runs `herald dlq replay sms ARGS` with `env`. */
const replay = (env: Record<string, string>, ...args: string[]) => runHeraldCli(['dlq', 'replay', 'sms', ...args], env);

const report = (out: { code: number | null; stdout: string; stderr: string }): DlqReplayReport => {
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as DlqReplayReport;
};

describe('herald dlq replay (embedded profile, CLI)', () => {
  let sms: SmsPeer;
  let env: Record<string, string>;
  const users = [
    { user: 'dlq-ok', phone: '+14155550301' },
    { user: 'dlq-a', phone: '+14155550302' },
    { user: 'dlq-b', phone: '+14155550303' },
  ];

  beforeAll(async () => {
    sms = await startSmsPeer();
    env = { HERALD_DATA_DIR: tempDir('herald-dlq-replay-'), HERALD_LOG_LEVEL: 'warn', HERALD_SMS_URL: sms.url, HERALD_SMS_TOKEN: sms.token, HERALD_SMS_RATE_PER_SEC: '200' };
  });
  afterAll(async () => {
    await sms?.stop();
  });

  it('sends what the DLQ holds once the cause is fixed, once each; previews, filters by code, and never resends', async () => {
    const sent = (phone: string) => sms.messages.filter((m) => m.to === phone).length;
    sms.rejectNumber('+14155550302', 'sender id not registered for this route');
    sms.rejectNumber('+14155550303', 'sender id not registered for this route');

    // 1. The job runs; two of three SMS fail for good.
    let { app, url } = await startInProcess(env);
    let id: string;
    try {
      for (const u of users) {
        expect((await api(url, 'PUT', `/users/${u.user}/channels`, { phone: u.phone })).status).toBe(200);
        expect((await api(url, 'POST', '/subscribe', { topic_id: 'dlq-topic', user_id: u.user })).status).toBe(200);
      }
      const pub = await api(url, 'POST', '/publish', { topic_id: 'dlq-topic', message: 'Your code is 4711', channels: ['sms'] });
      expect(pub.status).toBe(202);
      id = pub.body.id as string;
      const state = async (user: string) => ((await api(url, 'GET', `/notifications/${id}/deliveries?user_id=${user}`)).body.deliveries as { state: string }[])[0]?.state;
      await waitFor(async () => (await state('dlq-ok')) === 'sent' && (await state('dlq-a')) === 'failed' && (await state('dlq-b')) === 'failed', 20_000, 'one sent, two failed');

      // Beside the running job the command stops at the data directory's lock, changing nothing.
      const locked = await replay(env);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain('HERALD_LOG_DIR_LOCKED');
    } finally {
      await app.close();
    }

    // 2. The cause is fixed at the provider. Preview, then a filter that matches nothing.
    sms.acceptNumber('+14155550302');
    sms.acceptNumber('+14155550303');
    const preview = report(await replay(env, '--dry-run', '--json'));
    expect(preview).toMatchObject({ dryRun: true, letters: 2, replayed: 2, reopened: 2, byCode: { HTTP_400: { letters: 2, replayed: 2 } }, retryLog: 'herald.channel.sms.retry' });
    const human = await replay(env, '--dry-run');
    expect(human.stdout).toMatch(/dry run: nothing changed\): 2 dead letter\(s\) in herald\.channel\.dlq; would replay 2/);
    expect(report(await replay(env, '--code', 'RETRIES_EXHAUSTED,HTTP_401', '--json'))).toMatchObject({ letters: 2, replayed: 0, skipped: { code: 2 } });

    // 3. The replay: both jobs back on the retry log, their statuses reopened.
    expect(report(await replay(env, '--code=HTTP_400', '--json'))).toMatchObject({ dryRun: false, letters: 2, replayed: 2, reopened: 2 });

    // 4. The job starts again and sends exactly those two, once each.
    ({ app, url } = await startInProcess(env));
    try {
      const deliveries = async (user: string) => (await api(url, 'GET', `/notifications/${id!}/deliveries?user_id=${user}`)).body.deliveries as { state: string; attempts: number }[];
      await waitFor(async () => (await deliveries('dlq-a'))[0]?.state === 'sent' && (await deliveries('dlq-b'))[0]?.state === 'sent', 20_000, 'replayed SMS sent');
      expect([sent('+14155550301'), sent('+14155550302'), sent('+14155550303')]).toEqual([1, 1, 1]);
      expect(sms.messages.find((m) => m.to === '+14155550302')!.text).toBe('Your code is 4711');
      // A new idempotency key: the provider kept its refusal under the original one.
      expect(sms.messages.find((m) => m.to === '+14155550302')!.idempotencyKey).toMatch(new RegExp(`^${id!}:dlq-a:sms:replay:0:\\d+$`));
      expect(sms.messages.find((m) => m.to === '+14155550301')!.idempotencyKey).toBe(`${id!}:dlq-ok:sms`);
      // Give a wrongly repeated job time to show up.
      await new Promise((r) => setTimeout(r, 1_500));
      expect([sent('+14155550301'), sent('+14155550302'), sent('+14155550303')]).toEqual([1, 1, 1]);
    } finally {
      await app.close();
    }

    // 5. Replaying again finds them sent: nothing goes out.
    expect(report(await replay(env, '--json'))).toMatchObject({ letters: 2, replayed: 0, reopened: 0, skipped: { settled: 2 } });
  }, 120_000);
});
