/**
 * The kafka profile scaled out and under failure, through the real CLI: 3 fan-out processes
 * (`herald job`) and 2 edges (`herald edge`) on one broker, one shared store directory. 100 users
 * (2-3 topics each, 40 topics) hold SSE streams through a client that reconnects with
 * Last-Event-ID to any live edge. 20,000 publishes (each with its own Idempotency-Key, ~5% sent
 * twice) go through both edges while a 4th job starts (30%), one job is killed with SIGKILL (50%)
 * and one edge is killed with SIGKILL (65%): publishes that fail are retried with the same key on
 * the surviving edge, streams move to it.
 *
 * Then every user must have received, over SSE (across reconnects) and through GET
 * /notifications (all pages), exactly the accepted notifications of their topics: none missing,
 * none twice, none foreign, in publish order per topic. Each topic is published by one publisher
 * loop, sequentially, so its publish order is the order of the 202 answers.
 *
 * Children log at info to files in the run's temporary directory; a failing run (or any run with
 * HERALD_SCALE_KEEP_LOGS=1) keeps the logs (the path is printed) and removes everything else.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDeliveries, formatReport, problemCounts, type AcceptedPublish, type ReceivedNotification } from '../helpers/delivery-checker.ts';
import { freePort, tempDir } from '../helpers/herald.ts';
import { spawnHeraldRole, type HeraldRoleProcess } from '../helpers/herald-process.ts';
import { api, fetchAll } from '../helpers/http.ts';
import { ResilientStream } from '../helpers/resilient-sse.ts';
import { isolatedTopology, kafkaBrokers } from '../helpers/services.ts';
import { seededRandom as prng } from '../../bench/lib/prng.ts';

const USERS = 100;
const TOPICS = 40;
const PUBLISHES = 20_000;
/** Concurrent publisher loops; topic t belongs to loop t % PUBLISHERS. */
const PUBLISHERS = 8;
/** Share of publishes sent a second time with the same key and body. */
const RETRY_RATE = 0.05;
/** After publishing, how long deliveries may take to converge, ms. */
const CONVERGE_MS = 120_000;
const TEST_TIMEOUT_MS = 285_000;


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A 4xx answer to a publish: a bug (of the test or of Herald), never retried. */
class PublishRefused extends Error {}

describe('kafka profile at scale (4 fan-out jobs, 2 edges, kill -9 of a job and an edge)', () => {
  const dir = tempDir('herald-scale-');
  const logDir = path.join(dir, 'logs');
  const procs: HeraldRoleProcess[] = [];
  const streams: ResilientStream[] = [];
  /** Edges taken out of rotation (killed), before their process is gone. */
  const downEdges = new Set<HeraldRoleProcess>();
  let passed = false;

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await Promise.all(procs.map((p) => p.stop(15_000)));
    if ((!passed || process.env.HERALD_SCALE_KEEP_LOGS === '1') && fs.existsSync(logDir)) {
      const keep = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-kafka-scale-logs-'));
      for (const f of fs.readdirSync(logDir)) fs.copyFileSync(path.join(logDir, f), path.join(keep, f));
      console.log(`kafka-scale ${passed ? 'passed' : 'failed'}: child logs (HERALD_LOG_LEVEL=info) kept in ${keep}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it(
    `delivers ${PUBLISHES} publishes to ${USERS} users exactly once, in order, over SSE and GET /notifications`,
    async () => {
      const t0 = Date.now();
      const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
      const timeline: string[] = [];
      const mark = (what: string): void => void timeline.push(`${elapsed().padStart(7)}  ${what}`);

      // ── cluster ────────────────────────────────────────────────────────────────────────────
      const sharedDir = path.join(dir, 'shared');
      const common: Record<string, string> = {
        HERALD_PROFILE: 'kafka',
        HERALD_KAFKA_BROKERS: kafkaBrokers(),
        HERALD_SHARED_STORE_DIR: sharedDir,
        HERALD_TOPOLOGY: isolatedTopology(dir),
        HERALD_LOG_LEVEL: 'info',
        HERALD_WORKER_THREADS: '1',
        HERALD_SSE_PING_MS: '2000',
      };
      const spawnRole = async (role: 'job' | 'edge', name: string): Promise<HeraldRoleProcess> => {
        const p = await spawnHeraldRole({
          name,
          role,
          port: await freePort(),
          env: { ...common, HERALD_DATA_DIR: path.join(dir, name) },
          logFile: path.join(logDir, `${name}.log`),
          onSpawned: (child) => procs.push(child),
        });
        mark(`${name} healthy at ${p.url}`);
        return p;
      };
      const settledStarts = await Promise.allSettled([spawnRole('job', 'job-1'), spawnRole('job', 'job-2'), spawnRole('job', 'job-3'), spawnRole('edge', 'edge-1'), spawnRole('edge', 'edge-2')]);
      const failedStart = settledStarts.find((r) => r.status === 'rejected');
      if (failedStart) throw failedStart.reason;
      const started = settledStarts.map((r) => (r as PromiseFulfilledResult<HeraldRoleProcess>).value);
      const jobs = started.slice(0, 3);
      const edges = started.slice(3);
      const liveEdges = () => edges.filter((e) => e.alive && !downEdges.has(e)).map((e) => e.url);

      // ── subscriptions (all before any publish) ────────────────────────────────────────────
      const topics = Array.from({ length: TOPICS }, (_, t) => `topic-${t}`);
      const users = Array.from({ length: USERS }, (_, u) => `user-${u}`);
      const subscriptions = new Map<string, string[]>();
      const subRandom = prng(1);
      for (const user of users) {
        const n = subRandom() < 0.5 ? 2 : 3;
        const mine = new Set<string>();
        while (mine.size < n) mine.add(topics[Math.floor(subRandom() * TOPICS)]!);
        subscriptions.set(user, [...mine]);
      }
      const subRequests = users.flatMap((user, u) => subscriptions.get(user)!.map((topic) => ({ user, topic, edge: edges[u % edges.length]!.url })));
      for (let i = 0; i < subRequests.length; i += 10) {
        await Promise.all(
          subRequests.slice(i, i + 10).map(async ({ user, topic, edge }) => {
            const r = await api(edge, 'POST', '/subscribe', { topic_id: topic, user_id: user });
            expect(r.status, `subscribe ${user} to ${topic}: ${JSON.stringify(r.body)}`).toBe(200);
          }),
        );
      }
      mark(`${subRequests.length} subscriptions made`);

      // ── wait until the edge group settled: every user's stream resolves to a live edge ────
      const ownerOf = async (user: string): Promise<string | null> => {
        const ctl = new AbortController();
        try {
          const r = await fetch(`${edges[0]!.url}/stream?user_id=${user}`, { redirect: 'manual', signal: ctl.signal });
          if (r.status === 200) return edges[0]!.url;
          if (r.status === 307) return new URL(r.headers.get('location')!).origin;
          return null;
        } finally {
          ctl.abort();
        }
      };
      let previous = '';
      const settleDeadline = Date.now() + 60_000;
      for (;;) {
        const owners = await Promise.all(users.map(ownerOf));
        const key = owners.join(',');
        const settled = owners.every((o) => o !== null && liveEdges().includes(o)) && new Set(owners).size === edges.length;
        if (settled && key === previous) break;
        previous = settled ? key : '';
        if (Date.now() > settleDeadline) throw new Error(`the edge consumer group did not settle: owners ${key}`);
        await sleep(1000);
      }
      mark('edge group settled (both edges own user partitions)');

      // ── streams ───────────────────────────────────────────────────────────────────────────
      for (const [u, user] of users.entries()) streams.push(new ResilientStream({ userId: user, edges: liveEdges, random: prng(1000 + u), idleTimeoutMs: 10_000 }));
      const streamOf = new Map(streams.map((s) => [s.userId, s]));
      await Promise.race([
        Promise.all(streams.map((s) => s.whenConnected())),
        sleep(30_000).then(() => {
          throw new Error(`streams not connected after 30 s: ${streams.filter((s) => !s.connected).map((s) => `${s.userId} ${s.recentErrors.at(-1)}`).join('; ')}`);
        }),
      ]);
      mark(`${streams.length} SSE streams open`);

      // ── publishing, with scale events ─────────────────────────────────────────────────────
      const topicOrder = new Map<string, AcceptedPublish[]>(topics.map((t) => [t, []]));
      let accepted = 0;
      let keysSent = 0;
      let retried = 0;
      let failovers = 0;
      const failoverReasons = new Map<string, number>();
      const retryMismatches: string[] = [];
      const eventTasks: Promise<void>[] = [];
      /** Publish requests in flight per edge URL. */
      const inFlight = new Map<string, number>();
      const fired = new Set<string>();
      const onProgress = () => {
        const share = accepted / PUBLISHES;
        if (share >= 0.3 && !fired.has('job-4')) {
          fired.add('job-4');
          mark(`${accepted} accepted: starting job-4`);
          eventTasks.push(spawnRole('job', 'job-4').then(() => undefined));
        }
        if (share >= 0.5 && !fired.has('kill-job')) {
          fired.add('kill-job');
          mark(`${accepted} accepted: kill -9 ${jobs[0]!.name}`);
          eventTasks.push(jobs[0]!.kill().then(() => mark(`${jobs[0]!.name} gone`)));
        }
        if (share >= 0.65 && !fired.has('kill-edge')) {
          fired.add('kill-edge');
          const victim = edges[1]!;
          eventTasks.push(
            (async () => {
              // Kill it mid-request: wait (briefly) until publishes are in flight on it.
              const until = Date.now() + 2_000;
              while ((inFlight.get(victim.url) ?? 0) < 2 && Date.now() < until) await sleep(1);
              const n = inFlight.get(victim.url) ?? 0;
              const gone = victim.kill(); // SIGKILL is sent synchronously
              downEdges.add(victim);
              mark(`${accepted} accepted: kill -9 ${victim.name} (${victim.url}) with ${n} publishes in flight on it`);
              await gone;
              mark(`${victim.name} gone`);
            })(),
          );
        }
      };

      /** POSTs until a 202: failures (reset, refused, timeout, 5xx) go to another live edge. */
      const publishUntilAccepted = async (topic: string, message: unknown, key: string, random: () => number): Promise<{ id: string; topic_id: string }> => {
        let avoid: string | undefined;
        for (let attempt = 0; ; attempt++) {
          const live = liveEdges();
          const choice = live.length > 1 && avoid !== undefined ? live.filter((e) => e !== avoid) : live;
          const edge = choice[Math.floor(random() * choice.length)]!;
          let reason: string;
          inFlight.set(edge, (inFlight.get(edge) ?? 0) + 1);
          try {
            const r = await fetch(`${edge}/publish`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'idempotency-key': key },
              body: JSON.stringify({ topic_id: topic, message }),
              signal: AbortSignal.timeout(15_000),
            });
            const text = await r.text();
            if (r.status === 202) {
              const body = JSON.parse(text) as { id: string; topic_id: string };
              if (body.topic_id !== topic) throw new PublishRefused(`publish to ${topic} answered topic ${body.topic_id}`);
              return body;
            }
            if (r.status < 500) throw new PublishRefused(`POST /publish ${topic} key ${key} → ${r.status} ${text}`);
            reason = `${r.status} ${(JSON.parse(text) as { error?: { code?: string } }).error?.code ?? ''}`;
          } catch (err) {
            if (err instanceof PublishRefused) throw err;
            const e = err as Error & { cause?: { code?: string; message?: string } };
            reason = e.cause?.code ?? e.name;
          } finally {
            inFlight.set(edge, inFlight.get(edge)! - 1);
          }
          failovers++;
          failoverReasons.set(reason, (failoverReasons.get(reason) ?? 0) + 1);
          if (attempt >= 100) throw new Error(`publish ${key} to ${topic} still failing after ${attempt} attempts (${reason})`);
          avoid = edge;
          await sleep(Math.min(1000, 20 * 2 ** Math.min(attempt, 6)));
        }
      };

      const publisher = async (p: number): Promise<void> => {
        const random = prng(5000 + p);
        const owned = topics.filter((_, t) => t % PUBLISHERS === p);
        const count = PUBLISHES / PUBLISHERS;
        const sent: { key: string; topic: string; message: unknown; id: string }[] = [];
        for (let i = 0; i < count; i++) {
          const topic = owned[i % owned.length]!;
          const key = `p${p}-${i}`;
          const message = i % 5 === 0 ? `plain ${p}/${i}` : { publisher: p, n: i, topic, text: `hello ${i}` };
          keysSent++;
          const receipt = await publishUntilAccepted(topic, message, key, random);
          topicOrder.get(topic)!.push({ id: receipt.id, topic, message });
          sent.push({ key, topic, message, id: receipt.id });
          accepted++;
          onProgress();
          if (random() < RETRY_RATE) {
            // The same request again (same key, same body), e.g. a client that lost the answer.
            const again = sent[Math.max(0, sent.length - 1 - Math.floor(random() * 20))]!;
            const second = await publishUntilAccepted(again.topic, again.message, again.key, random);
            retried++;
            if (second.id !== again.id) retryMismatches.push(`key ${again.key}: first ${again.id}, retry ${second.id}`);
          }
        }
      };
      const publishStart = Date.now();
      mark('publishing');
      await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => publisher(p)));
      const publishSeconds = (Date.now() - publishStart) / 1000;
      mark(`${accepted} accepted, ${retried} retried, ${failovers} fail-overs in ${publishSeconds.toFixed(1)} s (${Math.round(accepted / publishSeconds)}/s)`);
      await Promise.all(eventTasks);

      // ── convergence ───────────────────────────────────────────────────────────────────────
      const expectedIds = new Map<string, Set<string>>();
      for (const [user, subs] of subscriptions) expectedIds.set(user, new Set(subs.flatMap((t) => topicOrder.get(t)!.map((x) => x.id))));
      const sseComplete = (user: string) => {
        const want = expectedIds.get(user)!;
        let have = 0;
        for (const id of new Set(streamOf.get(user)!.ids())) if (want.has(id)) have++;
        return have === want.size;
      };
      const deadline = Date.now() + CONVERGE_MS;
      while (!users.every(sseComplete) && Date.now() < deadline) await sleep(500);
      mark(`SSE ${users.every(sseComplete) ? 'converged' : `NOT converged (${users.filter((u) => !sseComplete(u)).length} users incomplete)`}`);
      const fetchAllUsers = async (): Promise<Map<string, ReceivedNotification[]>> => {
        const out = new Map<string, ReceivedNotification[]>();
        for (let i = 0; i < users.length; i += 10) {
          await Promise.all(users.slice(i, i + 10).map(async (user) => out.set(user, await fetchAll(liveEdges()[0]!, user, 500))));
        }
        return out;
      };
      const fetchComplete = (all: Map<string, ReceivedNotification[]>) => users.every((u) => new Set(all.get(u)!.map((n) => n.id)).size >= expectedIds.get(u)!.size);
      let fetched = await fetchAllUsers();
      while (!fetchComplete(fetched) && Date.now() < deadline) {
        await sleep(1000);
        fetched = await fetchAllUsers();
      }
      mark(`GET /notifications ${fetchComplete(fetched) ? 'converged' : 'NOT converged'}`);
      // Give a stray late duplicate the chance to show up before counting.
      await sleep(1500);
      fetched = await fetchAllUsers();

      // ── check ─────────────────────────────────────────────────────────────────────────────
      const sse = new Map<string, ReceivedNotification[]>(
        streams.map((s) => [s.userId, s.events.map((e) => ({ id: e.id, topic_id: e.data?.topic_id, message: e.data?.message, ...(e.data?.id !== e.id ? { topic_id: `(data.id ${e.data?.id} ≠ event id)` } : {}) }))]),
      );
      const report = checkDeliveries({
        published: keysSent,
        retried,
        failovers,
        topicOrder,
        subscriptions,
        sse,
        fetched,
        reconnects: streams.reduce((n, s) => n + s.reconnects, 0),
      });
      // What each surviving job did (the 4th must have taken a share of the publish log).
      const metric = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*stage="fanout"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      const jobStats = await Promise.all(
        procs
          .filter((p) => p.role === 'job' && p.alive)
          .map(async (p) => {
            const text = (await api<string>(p.url, 'GET', '/metrics')).body;
            return { name: p.name, recordsIn: metric(text, 'herald_stage_records_in_total'), duplicates: metric(text, 'herald_dedup_duplicates_total') };
          }),
      );
      const sum = (k: keyof ResilientStream['stats']) => streams.reduce((n, s) => n + s.stats[k], 0);
      // A rebalance near the end closes streams of moved partitions; they must come back.
      const reconnectDeadline = Date.now() + 30_000;
      while (streams.some((s) => !s.connected) && Date.now() < reconnectDeadline) await sleep(200);
      const connectedAtEnd = streams.filter((s) => s.connected).length;
      const unexpectedExits = procs.filter((p) => !p.alive && p !== jobs[0] && !downEdges.has(p)).map((p) => p.name);
      console.log(
        [
          'kafka-scale timeline:',
          ...timeline,
          '',
          formatReport(report, {
            'SSE redirects followed': sum('redirects'),
            'SSE 503 answers': sum('unavailable'),
            'SSE errors': sum('errors'),
            'SSE error kinds': [...streams.reduce((m, st) => (st.errorKinds.forEach((v, k) => m.set(k, (m.get(k) ?? 0) + v)), m), new Map<string, number>())].map(([k, v]) => `${k}×${v}`).join(', ') || '-',
            'SSE server closes': sum('serverCloses'),
            'SSE idle timeouts': sum('idleTimeouts'),
            'streams connected at end': `${connectedAtEnd}/${streams.length}`,
            'fail-over reasons': [...failoverReasons].map(([k, v]) => `${k}×${v}`).join(' ') || '-',
            'retry id mismatches': retryMismatches.length,
            'fan-out records in (live jobs)': jobStats.map((j) => `${j.name}:${j.recordsIn}`).join(' '),
            'dedup drops (live jobs)': jobStats.reduce((n, j) => n + j.duplicates, 0),
            'total time': elapsed(),
          }),
          ...(report.samples.length ? ['', 'first problems:', ...report.samples] : []),
        ].join('\n'),
      );

      expect(retryMismatches, 'a retried Idempotency-Key answered another id').toEqual([]);
      expect(unexpectedExits, 'Herald processes that died without being killed').toEqual([]);
      expect(keysSent).toBe(PUBLISHES);
      expect(report.acceptedIds).toBe(PUBLISHES);
      expect(failovers, 'the edge was killed with publishes in flight, which were retried').toBeGreaterThan(0);
      expect(jobStats.find((j) => j.name === 'job-4')?.recordsIn ?? 0, 'job-4 took a share of the publish log').toBeGreaterThan(0);
      expect(retried).toBeGreaterThan(PUBLISHES * RETRY_RATE * 0.5);
      expect(problemCounts(report)).toEqual(Object.fromEntries(Object.keys(problemCounts(report)).map((k) => [k, 0])));
      expect(report.sse.received).toBe(report.expectedDeliveries);
      expect(report.fetch.received).toBe(report.expectedDeliveries);
      expect(connectedAtEnd).toBe(streams.length);
      passed = true;
    },
    TEST_TIMEOUT_MS,
  );
});
