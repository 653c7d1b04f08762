/**
 * Crash test: Herald runs as a child process (the real CLI); it is killed with SIGKILL in the
 * middle of a publish burst and restarted on the same data directory. Every accepted publish
 * (202) is then delivered exactly once — on the stream resumed with Last-Event-ID and through
 * GET /notifications — and client retries of unanswered publishes (same Idempotency-Key) create
 * nothing twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { openStream } from '../helpers/sse-client.ts';
import { freePort, spawnHerald, tempDir, type HeraldChild } from '../helpers/herald.ts';

const USERS = ['u1', 'u2', 'u3', 'u4'];
const TOPICS = ['t0', 't1', 't2'];
/** u1: all topics; u2: t0; u3: t1,t2; u4: t2. */
const SUBS: Record<string, string[]> = { u1: TOPICS, u2: ['t0'], u3: ['t1', 't2'], u4: ['t2'] };
const TOTAL = 400;

describe('crash during a publish burst (kill -9, restart)', () => {
  let herald: HeraldChild | undefined;
  afterAll(async () => {
    await herald?.kill();
  });

  it('delivers every accepted publish exactly once after restart', { timeout: 120_000 }, async () => {
    const dataDir = tempDir('herald-crash-');
    const port = await freePort();
    herald = await spawnHerald(dataDir, port);
    const url = herald.url;
    for (const user of USERS) for (const topic of SUBS[user]!) expect((await api(url, 'POST', '/subscribe', { topic_id: topic, user_id: user })).status).toBe(200);

    const stream = openStream(url, 'u1');
    await stream.opened;

    const accepted = new Map<string, string>(); // key → id
    let next = 0;
    let killed = false;
    const publishOne = async (i: number) => {
      const key = `burst-${i}`;
      try {
        const r = await api(url, 'POST', '/publish', { topic_id: TOPICS[i % TOPICS.length], message: { i } }, { 'idempotency-key': key });
        if (r.status === 202) accepted.set(key, r.body.id);
      } catch {
        // connection refused / reset: not accepted
      }
    };
    const workers = Array.from({ length: 16 }, async () => {
      while (next < TOTAL && !killed) await publishOne(next++);
    });
    // Kill mid-burst, once the live stream is flowing (so the resume below starts mid-stream).
    await waitFor(() => accepted.size >= 150 && stream.events.length >= 20, 30_000, '150 accepted publishes and 20 live events');
    killed = true;
    await herald.kill();
    await Promise.all(workers);
    stream.close();
    const acceptedBeforeCrash = new Map(accepted);
    expect(acceptedBeforeCrash.size).toBeGreaterThanOrEqual(150);
    expect(acceptedBeforeCrash.size).toBeLessThan(TOTAL);
    const liveBeforeCrash = stream.ids();
    expect(new Set(liveBeforeCrash).size).toBe(liveBeforeCrash.length);

    // Restart on the same data dir; the client retries every publish it got no answer for.
    herald = await spawnHerald(dataDir, port);
    for (let i = 0; i < TOTAL; i++) {
      const key = `burst-${i}`;
      const r = await api(url, 'POST', '/publish', { topic_id: TOPICS[i % TOPICS.length], message: { i } }, { 'idempotency-key': key });
      expect(r.status).toBe(202);
      if (acceptedBeforeCrash.has(key)) expect(r.body.id).toBe(acceptedBeforeCrash.get(key)); // same answer as before the crash
      accepted.set(key, r.body.id);
    }
    expect(accepted.size).toBe(TOTAL);

    const expectedFor = (user: string) =>
      [...accepted.entries()].filter(([key]) => SUBS[user]!.includes(TOPICS[Number(key.split('-')[1]) % TOPICS.length]!)).map(([, id]) => id);

    // u1 resumes its stream from the last event it saw before the crash.
    const resumed = openStream(url, 'u1', liveBeforeCrash.at(-1));
    await resumed.opened;
    const u1Expected = expectedFor('u1');
    await waitFor(() => liveBeforeCrash.length + resumed.events.length >= u1Expected.length, 30_000, 'u1 stream to catch up').catch(async (err: Error) => {
      const inbox = (await fetchAll(url, 'u1', 250)).map((n) => n.id);
      const got = new Set([...liveBeforeCrash, ...resumed.ids()]);
      const missing = u1Expected.filter((id) => !got.has(id));
      throw new Error(`${err.message}: streamed ${liveBeforeCrash.length}+${resumed.events.length}, expected ${u1Expected.length}, inbox ${inbox.length}, missing from stream ${missing.length} (in inbox: ${missing.filter((id) => inbox.includes(id)).length})`);
    });
    await new Promise((r) => setTimeout(r, 500));
    resumed.close();
    const streamed = [...liveBeforeCrash, ...resumed.ids()];
    expect(new Set(streamed).size).toBe(streamed.length); // nothing twice on the resumed stream
    expect([...streamed].sort()).toEqual([...u1Expected].sort()); // nothing lost

    for (const user of USERS) {
      const expected = expectedFor(user);
      let got: string[] = [];
      await waitFor(async () => (got = (await fetchAll(url, user, 250)).map((n) => n.id)).length >= expected.length, 30_000, `${user} inbox`);
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort()).toEqual([...expected].sort());
    }
    expect(await herald.stop()).toBe(0);
    herald = undefined;
  });
});
