/**
 * WebSocket streams (GET /ws) on the kafka profile through the real CLI: one `herald job` and
 * `herald edge` processes on the real broker, ownership in the real Redis, the shared SQLite
 * stores of one machine.
 *
 * 1. One edge owns every user partition; every user holds a WebSocket stream and receives the
 *    first notifications.
 * 2. A second edge joins while notifications are being published: the first edge closes the
 *    streams of the users whose partition moved with a retry message and close code 1012; they
 *    reconnect to the first edge with last_event_id, are refused with 307 to the new owner, follow
 *    it, and resume there.
 * 3. After a few more publishes, every user has received every notification exactly once, in
 *    publish order, and the moved users' last stream is served by the new edge.
 *
 * Children log to files in the run's temporary directory; a failing run keeps them (path printed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { partitionFor } from '../../log/murmur2.ts';
import { api, waitFor } from '../helpers/http.ts';
import { ResilientWs } from '../helpers/resilient-ws.ts';
import { RoleCluster } from '../helpers/role-cluster.ts';
import { uniqueName } from '../helpers/services.ts';

const USERS = 16;
const PUBLISHES_BEFORE = 4;
const PUBLISHES_DURING = 10;
const PUBLISHES_AFTER = 3;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every 250 ms (the checks are HTTP and Redis round trips); throws naming `what` after `timeoutMs`. */
const until = (what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> => waitFor(check, timeoutMs, what, 250);

describe('WebSocket streams across an edge rebalance (kafka profile, Redis ownership)', () => {
  const cluster = new RoleCluster('kafka-websocket');
  const streams: ResilientWs[] = [];
  let passed = false;

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await cluster.close(passed);
  }, 60_000);

  it('moves streams to the new owner with retry + 1012, 307 and last_event_id: every notification once, in order', async () => {
    await cluster.start();
    const { userLog } = cluster;
    const spawnRole = (role: 'job' | 'edge', name: string) => cluster.spawn(role, name);
    const owners = () => cluster.owners();

    // ── 1. one edge owns everything; every user streams over a WebSocket ──────────────────────
    const [, edge1] = await Promise.all([spawnRole('job', 'job-1'), spawnRole('edge', 'edge-1')]);
    await until('edge-1 owns every user partition', 45_000, async () => (await owners()).every((o) => o === edge1!.url));
    const topic = uniqueName('wst');
    const users = Array.from({ length: USERS }, (_, i) => uniqueName(`wsu${i}`));
    for (const user of users) expect((await api(edge1!.url, 'POST', '/subscribe', { topic_id: topic, user_id: user })).status).toBe(200);
    for (const user of users) streams.push(new ResilientWs({ userId: user, edges: () => [edge1!.url] }));
    await until('every stream open', 20_000, () => streams.every((s) => s.connected));

    const published: string[] = [];
    const publish = async () => {
      const r = await api(edge1!.url, 'POST', '/publish', { topic_id: topic, message: { n: published.length } });
      expect(r.status).toBe(202);
      published.push(r.body.id);
    };
    for (let i = 0; i < PUBLISHES_BEFORE; i++) await publish();
    await until('the first notifications on every stream', 30_000, () => streams.every((s) => s.events.length >= PUBLISHES_BEFORE));

    // ── 2. a second edge joins while publishing: the moved users' streams follow their partition ─
    const joining = spawnRole('edge', 'edge-2');
    for (let i = 0; i < PUBLISHES_DURING; i++) {
      await publish();
      await sleep(300);
    }
    const edge2 = await joining; // clients keep connecting to edge-1 only: moved users must follow the 307
    let map: (string | null)[] = [];
    let previous = '';
    await until('both edges own partitions, stable for a second', 45_000, async () => {
      map = await owners();
      const settled = map.every((o) => o === edge1!.url || o === edge2.url) && map.includes(edge2.url) && map.includes(edge1!.url);
      const stable = settled && map.join(',') === previous;
      previous = settled ? map.join(',') : '';
      if (!stable) await sleep(750);
      return stable;
    });
    const movedUsers = users.filter((u) => map[partitionFor(u, userLog.partitions)] === edge2.url);
    for (let i = 0; i < PUBLISHES_AFTER; i++) await publish(); // delivered by the new owners
    await until('every notification on every stream', 60_000, () => streams.every((s) => s.events.length >= published.length));
    await sleep(500); // nothing more may arrive

    // ── 3. exactly once, in order; moved users now on edge-2 ───────────────────────────────────
    for (const s of streams) expect(s.ids(), s.userId).toEqual(published);
    const moved = streams.filter((s) => movedUsers.includes(s.userId));
    expect(moved.length).toBeGreaterThan(0);
    for (const s of moved) {
      expect(s.stats.closeCodes.get(1012) ?? 0, `${s.userId}: closed by the rebalance`).toBeGreaterThanOrEqual(1);
      expect(s.stats.redirects, `${s.userId}: redirected to the new owner`).toBeGreaterThanOrEqual(1);
      expect(s.events.at(-1)!.edge, `${s.userId}: served by edge-2 at the end`).toBe(edge2.url);
    }
    for (const s of streams.filter((s) => !movedUsers.includes(s.userId))) expect(s.events.at(-1)!.edge).toBe(edge1!.url);
    passed = true;
  }, 240_000);
});
