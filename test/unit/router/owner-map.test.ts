/**
 * The router's partition → edge map and request classification (single-module unit tests with an
 * in-memory owner source and a fake clock): users resolve to the owner of their murmur2
 * partition, unowned partitions trigger one coalesced re-read, a failed read keeps the last map,
 * requests without a user go round-robin over distinct owners and skip edges marked down.
 */
import { describe, expect, it } from 'vitest';
import { partitionFor } from '../../../log/murmur2.ts';
import { OwnerMap } from '../../../router/owner-map.ts';
import { classify } from '../../../router/routes.ts';

const A = 'http://10.0.0.1:8080';
const B = 'http://10.0.0.2:8080';

/** An owner source over a mutable table that counts its reads. */
function source(initial: (string | null)[]) {
  const s = { table: initial, reads: 0, fail: false };
  return {
    s,
    load: async () => {
      s.reads++;
      await new Promise((r) => setTimeout(r, 1));
      if (s.fail) throw new Error('redis down');
      return [...s.table];
    },
  };
}

describe('OwnerMap', () => {
  it('resolves a user to the owner of partitionFor(user_id, partitions), like the edges do', async () => {
    const table = Array.from({ length: 12 }, (_, p) => (p < 6 ? A : B));
    const { load } = source(table);
    const map = new OwnerMap({ partitions: 12, load });
    await map.refresh(0);
    for (const user of ['alice', 'bob', 'user-17', 'ü-ser', 'x'.repeat(128)]) {
      const p = partitionFor(user, 12);
      expect(map.partitionOf(user)).toBe(p);
      expect(map.ownerOf(user)).toBe(table[p]);
      expect(await map.resolve(user)).toBe(table[p]);
    }
    expect(map.stats()).toMatchObject({ owners: 2, unownedPartitions: 0 });
  });

  it('re-reads once for an unowned partition, coalescing concurrent callers and rate-limiting repeats', async () => {
    let now = 1_000;
    const { s, load } = source(new Array(4).fill(null));
    const map = new OwnerMap({ partitions: 4, load, minRefreshGapMs: 250, now: () => now });
    await map.refresh(0);
    expect(s.reads).toBe(1);
    now += 1_000;
    s.table = [A, A, B, B];
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const owners = await Promise.all(users.map((u) => map.resolve(u)));
    expect(s.reads).toBe(2); // five callers, one read
    expect(owners).toEqual(users.map((u) => s.table[partitionFor(u, 4)]));
    // A partition that stays unowned: repeated lookups within the gap do not read again.
    s.table = [null, null, null, null];
    await map.refresh(0);
    const reads = s.reads;
    for (let i = 0; i < 10; i++) expect(await map.resolve('u1')).toBeNull();
    expect(s.reads).toBe(reads);
    now += 300;
    await map.resolve('u1');
    expect(s.reads).toBe(reads + 1);
  });

  it('keeps the last map when a read fails and reports the failure', async () => {
    const { s, load } = source([A, B]);
    const seen: unknown[] = [];
    let now = 0;
    const map = new OwnerMap({ partitions: 2, load, onRefresh: (_s, err) => seen.push(err), now: () => now });
    await map.refresh(0);
    s.fail = true;
    now = 5_000;
    await map.refresh(0);
    expect(seen[0]).toBeUndefined();
    expect((seen[1] as Error).message).toBe('redis down');
    expect(map.stats()).toEqual({ owners: 2, unownedPartitions: 0, ageMs: 5_000 });
    expect(map.ownerOf('anyone')).not.toBeNull();
  });

  it('rejects a read of the wrong length (topology and store disagree) without touching the map', async () => {
    const { s, load } = source([A, B, A]);
    const errors: unknown[] = [];
    const map = new OwnerMap({ partitions: 3, load, onRefresh: (_s, err) => errors.push(err) });
    await map.refresh(0);
    s.table = [B];
    await map.refresh(0);
    expect(String(errors[1])).toMatch(/returned 1 partitions, expected 3/);
    expect(map.stats().owners).toBe(2);
  });

  it('round-robins requests without a user over distinct owners and skips an edge marked down', async () => {
    let now = 0;
    const C = 'http://10.0.0.3:8080';
    const { load } = source([A, A, A, B, C, null]);
    const map = new OwnerMap({ partitions: 6, load, downMs: 2_000, now: () => now });
    await map.refresh(0);
    const picks = [];
    for (let i = 0; i < 6; i++) picks.push(await map.anyOwner());
    expect(picks.slice(0, 3).sort()).toEqual([A, B, C]);
    expect(picks.slice(3)).toEqual(picks.slice(0, 3));
    expect(map.markDown(B)).toBe(true);
    expect(map.markDown(B)).toBe(false);
    for (let i = 0; i < 6; i++) expect(await map.anyOwner()).not.toBe(B);
    now += 2_001;
    const later = new Set<string | null>();
    for (let i = 0; i < 3; i++) later.add(await map.anyOwner());
    expect(later).toEqual(new Set([A, B, C]));
    expect(map.markDown(B)).toBe(true); // the old mark expired
  });

  it('still answers with a down edge when every edge is down, and null when none owns anything', async () => {
    const { s, load } = source([A, A]);
    const map = new OwnerMap({ partitions: 2, load });
    await map.refresh(0);
    map.markDown(A);
    expect(await map.anyOwner()).toBe(A);
    s.table = [null, null];
    await map.refresh(0);
    expect(await map.anyOwner()).toBeNull();
  });

  it('refuses a partition count below 1', () => {
    expect(() => new OwnerMap({ partitions: 0, load: async () => [] })).toThrow(RangeError);
  });
});

describe('classify', () => {
  const c = (method: string, path: string) => classify(method, new URL(path, 'http://router'));

  it('routes user streams, WebSockets and inbox reads by user', () => {
    expect(c('GET', '/stream?user_id=alice')).toEqual({ label: 'GET /stream', target: { kind: 'user', userId: 'alice' } });
    expect(c('GET', '/ws?user_id=a.b:c-d_e')).toEqual({ label: 'GET /ws', target: { kind: 'user', userId: 'a.b:c-d_e' } });
    expect(c('GET', '/notifications?limit=5&user_id=bob')).toEqual({ label: 'GET /notifications', target: { kind: 'user', userId: 'bob' } });
  });

  it('sends requests without a (valid) user to any edge, which answers in its own words', () => {
    expect(c('POST', '/publish').target).toEqual({ kind: 'any' });
    expect(c('POST', '/subscribe').target).toEqual({ kind: 'any' });
    expect(c('DELETE', '/subscribe').target).toEqual({ kind: 'any' });
    expect(c('GET', '/stream').target).toEqual({ kind: 'any' });
    expect(c('GET', '/stream?user_id=bad%20id').target).toEqual({ kind: 'any' });
    expect(c('POST', '/stream?user_id=alice').target).toEqual({ kind: 'any' });
    expect(c('GET', '/some/new/route')).toEqual({ label: 'other', target: { kind: 'any' } });
    expect(c('BREW', '/publish').label).toBe('other');
  });

  it("answers the router's own /healthz and /metrics", () => {
    expect(c('GET', '/healthz').target).toEqual({ kind: 'local', path: '/healthz' });
    expect(c('GET', '/metrics').target).toEqual({ kind: 'local', path: '/metrics' });
    expect(c('POST', '/healthz').target).toEqual({ kind: 'any' });
  });
});
