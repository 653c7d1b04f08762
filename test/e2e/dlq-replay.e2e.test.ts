/**
 * `herald dlq replay` on the embedded profile, as an operator runs it. The SMS provider refuses
 * four numbers for good (HTTP 400: dead letters, status failed). Then, with the job stopped:
 * one number is fixed at the provider, one user changes their number, one mutes SMS, and the
 * replay is previewed (--dry-run), filtered by code and run; the restarted job sends the fixed
 * one, and the still-refused one fails again. Fixed too, a second replay sends it under the key
 * of its newest letter (the provider kept its refusal under the older ones). Every SMS reaches
 * its user once; a changed or muted user gets none; a final replay finds nothing to send. The
 * command refuses to run beside the job (it holds the data directory).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DlqReplayReport } from '../../jobs/dlq-replay.ts';
import type { HeraldApp } from '../../jobs/app.ts';
import { runHeraldCli, startInProcess, tempDir } from '../helpers/herald.ts';
import { api, waitFor } from '../helpers/http.ts';
import { startSmsPeer, type SmsPeer } from '../helpers/sms-peer.ts';

/** Runs `herald dlq replay sms ARGS` with `env`. */
const replay = (env: Record<string, string>, ...args: string[]) => runHeraldCli(['dlq', 'replay', 'sms', ...args], env);

const report = (out: { code: number | null; stdout: string; stderr: string }): DlqReplayReport => {
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as DlqReplayReport;
};

const PHONE = { ok: '+14155550301', a: '+14155550302', b: '+14155550303', c: '+14155550304', d: '+14155550305' } as const;
const USERS = Object.keys(PHONE) as (keyof typeof PHONE)[];

describe('herald dlq replay (embedded profile, CLI)', () => {
  let sms: SmsPeer;
  let env: Record<string, string>;

  beforeAll(async () => {
    sms = await startSmsPeer();
    env = { HERALD_DATA_DIR: tempDir('herald-dlq-replay-'), HERALD_LOG_LEVEL: 'warn', HERALD_SMS_URL: sms.url, HERALD_SMS_TOKEN: sms.token, HERALD_SMS_RATE_PER_SEC: '200' };
  });
  afterAll(async () => {
    await sms?.stop();
  });

  /** Runs Herald in this process for `fn`, then closes it. */
  const withHerald = async (fn: (app: HeraldApp, url: string) => Promise<void>) => {
    const { app, url } = await startInProcess(env);
    try {
      await fn(app, url);
    } finally {
      await app.close();
    }
  };
  const sent = (phone: string) => sms.messages.filter((m) => m.to === phone);

  it('sends what the DLQ holds once the cause is fixed, once each, to current addresses only; previews, filters, and never resends', async () => {
    for (const u of ['a', 'b', 'c', 'd'] as const) sms.rejectNumber(PHONE[u], 'sender id not registered for this route');
    let id = '';
    const state = async (url: string, u: string) => ((await api(url, 'GET', `/notifications/${id}/deliveries?user_id=dlq-${u}`)).body.deliveries as { state: string }[])[0]?.state;

    // 1. The job runs; four of five SMS fail for good.
    await withHerald(async (app, url) => {
      for (const u of USERS) {
        expect((await api(url, 'PUT', `/users/dlq-${u}/channels`, { phone: PHONE[u] })).status).toBe(200);
        expect((await api(url, 'POST', '/subscribe', { topic_id: 'dlq-topic', user_id: `dlq-${u}` })).status).toBe(200);
      }
      const pub = await api(url, 'POST', '/publish', { topic_id: 'dlq-topic', message: 'Your code is 4711', channels: ['sms'] });
      expect(pub.status).toBe(202);
      id = pub.body.id as string;
      await waitFor(async () => (await state(url, 'ok')) === 'sent' && (await Promise.all(['a', 'b', 'c', 'd'].map((u) => state(url, u)))).every((s) => s === 'failed'), 20_000, 'one sent, four failed');

      // Beside the running job the command stops at the data directory's lock, saying what to do.
      const locked = await replay(env);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain('HERALD_LOG_DIR_LOCKED');
      expect(locked.stderr).toContain('stop it, replay, then start it again');

      // Since then: c has a new number, d muted SMS; and a letter whose code is "__proto__".
      expect((await api(url, 'PUT', '/users/dlq-c/channels', { phone: '+14155550399' })).status).toBe(200);
      expect((await api(url, 'PUT', '/users/dlq-d/preferences', { channels: { sms: false } })).status).toBe(200);
      const odd = { key: `${id}:nobody:sms`, notification_id: id, user_id: 'nobody', channel: 'sms', attempt: 1, not_before_ms: 0, critical: false, recipient: '+14155550398', message: { key: 'k', to: '+14155550398', text: 'x' } };
      await app.profile.transport.createProducer().send('herald.channel.dlq', [{ key: 'nobody', value: JSON.stringify({ stage: 'sms', error: { code: '__proto__', message: 'odd' }, value: JSON.stringify(odd) }) }]);
    });

    // 2. a is fixed at the provider (b is not yet). Preview, a filter matching nothing, the replay.
    sms.acceptNumber(PHONE.a);
    const preview = report(await replay(env, '--dry-run', '--json'));
    expect(preview).toMatchObject({ dryRun: true, letters: 5, replayed: 2, reopened: 2, retryLog: 'herald.channel.sms.retry', skipped: { address: 1, muted: 1, expired: 1, settled: 0, superseded: 0 } });
    // Own entries, whatever a code is called.
    expect(Object.entries(preview.byCode)).toEqual([
      ['HTTP_400', { letters: 4, replayed: 2 }],
      ['__proto__', { letters: 1, replayed: 0 }],
    ]);
    const human = await replay(env, '--dry-run');
    expect(human.stdout).toMatch(/dry run: nothing changed\): 5 dead letter\(s\) in herald\.channel\.dlq; would replay 2/);
    expect(human.stdout).toContain('1 address changed or removed, 1 muted since');
    expect(report(await replay(env, '--code', 'retries_exhausted,HTTP_401', '--json'))).toMatchObject({ replayed: 0, skipped: { code: 5 } });
    expect(report(await replay(env, '--code=HTTP_400', '--json'))).toMatchObject({ dryRun: false, replayed: 2, reopened: 2 });

    // 3. The job sends a's; b is refused again (a new letter).
    await withHerald(async (_app, url) => {
      await waitFor(async () => (await state(url, 'a')) === 'sent' && (await state(url, 'b')) === 'failed' && sms.requests.filter((r) => r.body.includes(PHONE.b)).length >= 2, 20_000, 'a sent, b refused again');
    });
    expect(sent(PHONE.a)).toHaveLength(1);
    expect(sent(PHONE.a)[0]!.idempotencyKey).toMatch(new RegExp(`^${id}:dlq-a:sms:replay:0:\\d+$`));

    // 4. b is fixed; the next replay takes b's newest letter (a new key), at the default log level
    //    the --json output is still one JSON document.
    sms.acceptNumber(PHONE.b);
    const second = report(await replay({ ...env, HERALD_LOG_LEVEL: 'info' }, '--json'));
    expect(second).toMatchObject({ letters: 6, replayed: 1, reopened: 1, skipped: { superseded: 1, settled: 1, address: 1, muted: 1, expired: 1 } });
    await withHerald(async (_app, url) => {
      await waitFor(async () => (await state(url, 'b')) === 'sent', 20_000, 'b sent');
      await new Promise((r) => setTimeout(r, 1_000)); // time for a wrongly repeated job to show up
    });
    const keysOfB = sms.requests.filter((r) => r.body.includes(PHONE.b)).map((r) => r.headers['idempotency-key']);
    expect(new Set(keysOfB).size).toBe(3); // original, first replay, second replay
    expect(USERS.map((u) => sent(PHONE[u]).length)).toEqual([1, 1, 1, 0, 0]);
    expect(sent('+14155550399')).toHaveLength(0);
    expect(sent(PHONE.ok)[0]!.idempotencyKey).toBe(`${id}:dlq-ok:sms`);

    // 5. Nothing left to send.
    expect(report(await replay(env, '--json'))).toMatchObject({ replayed: 0, reopened: 0, skipped: { settled: 2, superseded: 1 } });
  }, 120_000);

  it('refuses a data directory that does not exist instead of replaying an empty new one', async () => {
    const out = await replay({ ...env, HERALD_DATA_DIR: `${env.HERALD_DATA_DIR}-typo` }, '--dry-run');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('There is no data directory');
  });
});
