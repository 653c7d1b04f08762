/**
 * `herald router` in front of two edges on the kafka profile, through the real CLI: one
 * `herald job`, two `herald edge` (ownership and presence in the real Redis) and one
 * `herald router`, on the real broker. Every request goes through the router:
 *
 * 1. subscribe and publish; each user's SSE stream (and a few users' WebSocket, GET /ws) lands
 *    on the edge owning the user's partition (the edge's presence entry in Redis names it, and
 *    each edge's /healthz counts exactly its users' streams) and receives its notifications;
 *    GET /notifications lands on the owner too (each edge's request counter) and returns them,
 *    for users on both edges;
 * 2. stop one edge (SIGTERM) while publishing: after the rebalance the router sends its users to
 *    the survivor, their streams reconnect through the router with Last-Event-ID (WebSocket:
 *    last_event_id) and resume with no gap and no duplicate; no client ever sees a redirect.
 *
 * Children log to files in the run's temporary directory; a failing run keeps them (path printed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { partitionFor } from '../../log/murmur2.ts';
import type { HeraldRoleProcess } from '../helpers/herald-process.ts';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import { ResilientStream } from '../helpers/resilient-sse.ts';
import { ResilientWs } from '../helpers/resilient-ws.ts';
import { RoleCluster } from '../helpers/role-cluster.ts';
import { uniqueName } from '../helpers/services.ts';

const USERS = 24;
/** WebSocket users per edge (picked by partition, so both edges have some). */
const WS_PER_EDGE = 2;
const PUBLISHES_BEFORE = 8;
const PUBLISHES_DURING = 12;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every 250 ms (the checks are HTTP and Redis round trips); throws naming `what` after `timeoutMs`. */
const until = (what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> => waitFor(check, timeoutMs, what, 250);

/** A sample of a Prometheus text: the value of the line `name{labels}` (0 when absent). */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('herald router in front of two edges (kafka profile, Redis ownership)', () => {
  const cluster = new RoleCluster('kafka-router');
  const streams: ResilientStream[] = [];
  const sockets: ResilientWs[] = [];
  const redis = cluster.redis;
  let passed = false;

  afterAll(async () => {
    await Promise.all([...streams, ...sockets].map((s) => s.close()));
    await cluster.close(passed);
  }, 60_000);

  it('routes streams, inbox reads, subscribes and publishes to the owning edges, and moves users to the survivor when an edge stops', async () => {
    const t0 = Date.now();
    const timeline: string[] = [];
    const mark = (what: string) => void timeline.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${what}`);
    try {
      await cluster.start();
      const { userLog, ownership } = cluster;
      const spawnRole = async (role: 'job' | 'edge' | 'router', name: string) => {
        const p = await cluster.spawn(role, name);
        mark(`${name} healthy at ${p.url}`);
        return p;
      };

      // ── cluster: job + 2 edges, then the router ─────────────────────────────────────────────
      const [, edge1, edge2] = await Promise.all([spawnRole('job', 'job-1'), spawnRole('edge', 'edge-1'), spawnRole('edge', 'edge-2')]);
      const edges = [edge1!, edge2!];
      const router = await spawnRole('router', 'router');
      /** Every partition's owner, once both edges own some and the map is stable over 1 s. */
      let owners: (string | null)[] = [];
      let previous = '';
      await until('both edges own user partitions', 45_000, async () => {
        owners = await ownership.ownersOf(userLog.name, userLog.partitions);
        const key = owners.join(',');
        const settled = owners.every((o) => o === edge1!.url || o === edge2!.url) && new Set(owners).size === 2;
        const stable = settled && key === previous;
        previous = settled ? key : '';
        if (!stable) await sleep(750);
        return stable;
      });
      await until('the router knows both edges', 10_000, async () => {
        const h = await api(router.url, 'GET', '/healthz');
        return h.status === 200 && h.body.owner_edges === 2 && h.body.unowned_partitions === 0;
      });
      mark(`edge group settled: ${owners.filter((o) => o === edge1!.url).length} partitions on edge-1, ${owners.filter((o) => o === edge2!.url).length} on edge-2`);

      // ── subscriptions through the router ────────────────────────────────────────────────────
      const run = uniqueName('rt');
      const users = Array.from({ length: USERS }, (_, i) => `${run}-u${i}`);
      const ownerOf = (user: string) => owners[partitionFor(user, userLog.partitions)]!;
      const usersOf = (edge: HeraldRoleProcess) => users.filter((u) => ownerOf(u) === edge.url);
      expect(usersOf(edge1!).length, 'users on edge-1').toBeGreaterThan(0);
      expect(usersOf(edge2!).length, 'users on edge-2').toBeGreaterThan(0);
      const topicAll = `${run}-all`;
      const topicEven = `${run}-even`;
      const wsUsers: string[] = [];
      const wsUsersOf = (edge: HeraldRoleProcess) => wsUsers.filter((u) => ownerOf(u) === edge.url);
      for (let i = 0; wsUsers.length < 2 * WS_PER_EDGE; i++) {
        const u = `${run}-w${i}`;
        if (wsUsers.filter((w) => ownerOf(w) === ownerOf(u)).length < WS_PER_EDGE) wsUsers.push(u);
      }
      const evenUsers = new Set([...users.filter((_, i) => i % 2 === 0), ...wsUsers.filter((_, i) => i % 2 === 0)]);
      const topicsOf = (user: string) => (evenUsers.has(user) ? [topicAll, topicEven] : [topicAll]);
      for (const user of [...users, ...wsUsers]) {
        for (const topic of topicsOf(user)) {
          const r = await api(router.url, 'POST', '/subscribe', { topic_id: topic, user_id: user });
          expect(r.status, `subscribe ${user} to ${topic}: ${JSON.stringify(r.body)}`).toBe(200);
        }
      }
      mark('subscriptions made through the router');

      // ── streams through the router land on the owners ───────────────────────────────────────
      for (const user of users) streams.push(new ResilientStream({ userId: user, edges: () => [router.url], idleTimeoutMs: 10_000 }));
      await Promise.race([
        Promise.all(streams.map((s) => s.whenConnected())),
        sleep(30_000).then(() => {
          throw new Error(`streams not connected: ${streams.filter((s) => !s.connected).map((s) => `${s.userId} ${s.recentErrors.at(-1)}`).join('; ')}`);
        }),
      ]);
      for (const user of wsUsers) sockets.push(new ResilientWs({ userId: user, edges: () => [router.url] }));
      await until('WebSockets open through the router', 30_000, () => sockets.every((w) => w.connected));
      mark(`${USERS} SSE streams and ${wsUsers.length} WebSockets open through the router`);
      const presenceEdges = async (user: string) => new Set(await redis.zrangebyscore(`herald:presence:${user}`, Date.now(), '+inf'));
      await until('every stream is present on its owning edge', 10_000, async () => {
        for (const user of [...users, ...wsUsers]) if (!(await presenceEdges(user)).has(ownerOf(user))) return false;
        return true;
      });
      for (const user of [...users, ...wsUsers]) expect([...(await presenceEdges(user))], `${user}'s stream is on its owner only`).toEqual([ownerOf(user)]);
      for (const edge of edges) {
        const h = await api(edge.url, 'GET', '/healthz');
        expect(h.body.sse_connections, `${edge.name} serves exactly its users' SSE streams`).toBe(usersOf(edge).length);
        expect(h.body.ws_connections, `${edge.name} serves exactly its users' WebSockets`).toBe(wsUsersOf(edge).length);
      }

      // ── publishes through the router ────────────────────────────────────────────────────────
      const published = new Map<string, string[]>([
        [topicAll, []],
        [topicEven, []],
      ]);
      let publishRetries = 0;
      /** POST /publish through the router until 202; 5xx and network errors retry with the same key. */
      const publish = async (n: number): Promise<void> => {
        const topic = n % 3 === 2 ? topicEven : topicAll;
        let last = '';
        for (let attempt = 0; attempt <= 40; attempt++) {
          let r;
          try {
            r = await api(router.url, 'POST', '/publish', { topic_id: topic, message: { n } }, { 'idempotency-key': `${run}-${n}` });
          } catch (err) {
            r = null;
            last = String((err as Error).cause ?? err);
          }
          if (r?.status === 202) {
            published.get(topic)!.push(r.body.id);
            return;
          }
          if (r && r.status < 500) throw new Error(`publish ${n} → ${r.status} ${JSON.stringify(r.body)}`);
          if (r) last = `${r.status} ${JSON.stringify(r.body)}`;
          publishRetries++;
          await sleep(250);
        }
        throw new Error(`publish ${n} kept failing: ${last}`);
      };
      const expectedOf = (user: string) => topicsOf(user).flatMap((t) => published.get(t)!);
      const clientOf = (user: string): ResilientStream | ResilientWs => streams.find((c) => c.userId === user) ?? sockets.find((c) => c.userId === user)!;
      const complete = (user: string) => {
        const have = new Set(clientOf(user).ids());
        return expectedOf(user).every((id) => have.has(id));
      };
      const everyone = [...users, ...wsUsers];
      for (let n = 0; n < PUBLISHES_BEFORE; n++) await publish(n);
      await until('every stream received the first publishes', 30_000, () => everyone.every(complete));
      mark(`${PUBLISHES_BEFORE} publishes delivered over SSE and WebSocket through the router`);

      // ── GET /notifications through the router, on the owners ────────────────────────────────
      const readCount = async (edge: HeraldRoleProcess) => sample((await api<string>(edge.url, 'GET', '/metrics')).body, 'herald_http_requests_total', 'route="GET /notifications",status="200"');
      const readsBefore = await Promise.all(edges.map(readCount));
      for (const user of users) {
        const got = await fetchAll(router.url, user, 100);
        expect(got.map((n) => n.id).sort(), `GET /notifications of ${user}`).toEqual([...expectedOf(user)].sort());
      }
      const readsAfter = await Promise.all(edges.map(readCount));
      expect(readsAfter[0]! - readsBefore[0]!, 'inbox reads served by edge-1').toBe(usersOf(edge1!).length);
      expect(readsAfter[1]! - readsBefore[1]!, 'inbox reads served by edge-2').toBe(usersOf(edge2!).length);
      mark('GET /notifications through the router served by the owners');

      // ── stop edge-2 while publishing ────────────────────────────────────────────────────────
      const moved = [...usersOf(edge2!), ...wsUsersOf(edge2!)];
      const connectsBefore = new Map(moved.map((u) => [u, clientOf(u).stats.connects]));
      mark(`stopping edge-2 (${moved.length} users)`);
      const stopping = edge2!.stop(20_000).then(() => mark('edge-2 exited'));
      for (let n = PUBLISHES_BEFORE; n < PUBLISHES_BEFORE + PUBLISHES_DURING; n++) {
        await publish(n);
        await sleep(300);
      }
      await stopping;
      mark(`${PUBLISHES_DURING} more publishes accepted (${publishRetries} retried)`);
      await until('edge-1 owns every partition and the router knows it', 30_000, async () => {
        const all = await ownership.ownersOf(userLog.name, userLog.partitions);
        const h = await api(router.url, 'GET', '/healthz');
        return all.every((o) => o === edge1!.url) && h.status === 200 && h.body.owner_edges === 1 && h.body.unowned_partitions === 0;
      });
      mark('rebalanced: edge-1 owns every partition');
      await until('every stream received every publish', 30_000, () => everyone.every(complete));
      await until("edge-2's users streaming from edge-1 through the router", 15_000, async () => {
        const h = await api(edge1!.url, 'GET', '/healthz');
        return h.body.sse_connections === USERS && h.body.ws_connections === wsUsers.length && [...streams, ...sockets].every((s) => s.connected);
      });
      mark('every stream complete and back on edge-1');
      await sleep(1_000); // a late duplicate would show up here

      // ── no gap, no duplicate, publish order per topic ───────────────────────────────────────
      for (const user of everyone) {
        const ids = clientOf(user).ids();
        expect(new Set(ids).size, `${user} received a notification twice: ${ids.join(' ')}`).toBe(ids.length);
        expect([...ids].sort(), `${user} received exactly its topics' notifications`).toEqual([...expectedOf(user)].sort());
        for (const topic of topicsOf(user)) {
          const order = published.get(topic)!;
          expect(ids.filter((id) => order.includes(id)), `${user}: ${topic} in publish order`).toEqual(order);
        }
        expect((await presenceEdges(user)).has(edge1!.url), `${user} present on edge-1`).toBe(true);
      }
      for (const user of moved) {
        const c = clientOf(user);
        expect(c.stats.connects, `${user}'s stream reconnected through the router`).toBeGreaterThan(connectsBefore.get(user)!);
        expect(c.events.some((e) => e.connection > connectsBefore.get(user)!), `${user} received notifications after the move`).toBe(true);
      }
      for (const c of [...streams, ...sockets]) expect(c.stats.redirects, `${c.userId} saw a redirect (the router follows owners itself)`).toBe(0);
      for (const user of users) {
        const got = await fetchAll(router.url, user, 100);
        expect(got.map((n) => n.id).sort(), `GET /notifications of ${user} after the move`).toEqual([...expectedOf(user)].sort());
      }
      const metrics = (await api<string>(router.url, 'GET', '/metrics')).body;
      const streamOpens = sample(metrics, 'herald_router_requests_total', 'route="GET /stream",status="200"');
      mark(`router: ${streamOpens} streams opened, ${sample(metrics, 'herald_router_requests_total', 'route="GET /stream",status="503"')} answered 503, upstream connect errors ${sample(metrics, 'herald_router_upstream_errors_total', 'kind="connect"')}, redirects followed ${/^herald_router_redirects_followed_total (\S+)$/m.exec(metrics)?.[1]}`);
      const total = (k: keyof ResilientStream['stats']) => streams.reduce((n, st) => n + st.stats[k], 0);
      mark(`clients: ${total('connects')} connects, ${total('unavailable')} × 503, ${total('serverCloses')} server closes, ${total('errors')} errors, ${total('redirects')} redirects seen; WebSockets: ${sockets.reduce((n, w) => n + w.stats.connects, 0)} opens, ${sockets.reduce((n, w) => n + w.stats.unavailable, 0)} × 503, close codes ${[...sockets.reduce((m, w) => (w.stats.closeCodes.forEach((v, k) => m.set(k, (m.get(k) ?? 0) + v)), m), new Map<number, number>())].map(([k, v]) => `${k}×${v}`).join(' ') || '-'}`);
      const movedSse = usersOf(edge2!).length;
      expect(streamOpens, 'SSE streams opened through the router').toBeGreaterThanOrEqual(USERS + movedSse);
      expect(sample(metrics, 'herald_router_requests_total', 'route="GET /ws",status="101"'), 'WebSockets opened through the router').toBeGreaterThanOrEqual(wsUsers.length + moved.length - movedSse);
      passed = true;
    } finally {
      console.log(['kafka-router timeline:', ...timeline].join('\n'));
    }
  }, 120_000);
});
