/**
 * Behavioural contract of {@link DedupStore} (exact confirmations behind the Bloom dedup),
 * reusable by every implementation. The factory returns a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DedupStore } from '../../stores/types.ts';
import { T0, shuffled } from './fixtures.ts';

/** Builds a fresh empty store for one test, and how to dispose of it. */
export type DedupStoreFactory = () => Promise<{ store: DedupStore; cleanup: () => Promise<void> }>;

/** Defines `describe(`DedupStore contract: ${name}`)` with the whole suite. */
export function dedupStoreContract(name: string, factory: DedupStoreFactory): void {
  describe(`DedupStore contract: ${name}`, () => {
    let store: DedupStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('nothing is confirmed in an empty store; an empty query gives an empty set', async () => {
      expect(await store.confirmed(['a', 'b'])).toEqual(new Set());
      expect(await store.confirmed([])).toEqual(new Set());
    });

    it('confirmed returns exactly the confirmed subset of the keys asked', async () => {
      await store.confirm([
        { key: 'k1', partition: 0, at: T0 },
        { key: 'k2', partition: 1, at: T0 },
        { key: 'k3', partition: 0, at: T0 },
      ]);
      expect(await store.confirmed(['k1', 'k3', 'k4', 'k'])).toEqual(new Set(['k1', 'k3']));
      expect(await store.confirmed(['k2', 'k2'])).toEqual(new Set(['k2']));
    });

    it('confirm is idempotent (also within one batch) and an empty batch is fine', async () => {
      await store.confirm([]);
      await store.confirm([
        { key: 'k1', partition: 0, at: T0 },
        { key: 'k1', partition: 0, at: T0 },
      ]);
      await store.confirm([{ key: 'k1', partition: 0, at: T0 }]);
      expect(await store.confirmed(['k1'])).toEqual(new Set(['k1']));
      expect(await store.keysSince(0, 0)).toEqual([{ key: 'k1', at: T0 }]);
    });

    it('keys are opaque strings: numeric-looking, case-sensitive, with separators, long', async () => {
      const keys = ['007', '7', '1e3', '1000', 'Key', 'key', 'topic:t1|idem:abc', 'x'.repeat(300), 'a"b', "a'b", 'a\\b'];
      await store.confirm(keys.map((key, i) => ({ key, partition: 0, at: T0 + i })));
      expect(await store.confirmed([...keys, '07', 'KEY', '1E3'])).toEqual(new Set(keys));
      expect((await store.keysSince(0, 0)).map((k) => k.key)).toEqual(keys);
    });

    it('keysSince: one partition only, at or after sinceMs, oldest first', async () => {
      const entries = [
        { key: 'p0-late', partition: 0, at: T0 + 30 },
        { key: 'p0-early', partition: 0, at: T0 + 10 },
        { key: 'p0-before', partition: 0, at: T0 - 1 },
        { key: 'p0-exact', partition: 0, at: T0 },
        { key: 'p1', partition: 1, at: T0 + 20 },
        { key: 'p10', partition: 10, at: T0 + 20 },
      ];
      await store.confirm(shuffled(entries));
      expect(await store.keysSince(0, T0)).toEqual([
        { key: 'p0-exact', at: T0 },
        { key: 'p0-early', at: T0 + 10 },
        { key: 'p0-late', at: T0 + 30 },
      ]);
      expect(await store.keysSince(1, 0)).toEqual([{ key: 'p1', at: T0 + 20 }]);
      expect(await store.keysSince(2, 0)).toEqual([]);
      expect(await store.keysSince(0, T0 + 31)).toEqual([]);
    });

    it('purge deletes confirmations strictly older than beforeMs and counts them', async () => {
      await store.confirm([
        { key: 'old1', partition: 0, at: T0 - 2 },
        { key: 'old2', partition: 3, at: T0 - 1 },
        { key: 'edge', partition: 0, at: T0 },
        { key: 'new', partition: 0, at: T0 + 1 },
      ]);
      expect(await store.purge(T0)).toBe(2);
      expect(await store.confirmed(['old1', 'old2', 'edge', 'new'])).toEqual(new Set(['edge', 'new']));
      expect(await store.purge(T0)).toBe(0);
    });

    it('batches of 5,000 keys: confirm, look up, restore and purge', async () => {
      const entries = Array.from({ length: 5_000 }, (_, i) => ({ key: `idem-${i}`, partition: i % 4, at: T0 + i }));
      await store.confirm(entries);
      const asked = [...entries.map((e) => e.key), ...Array.from({ length: 5_000 }, (_, i) => `other-${i}`)];
      const got = await store.confirmed(asked);
      expect(got.size).toBe(5_000);
      expect(got.has('idem-4999')).toBe(true);
      expect(got.has('other-0')).toBe(false);
      const p2 = await store.keysSince(2, T0);
      expect(p2).toHaveLength(1_250);
      expect(p2.map((k) => k.at)).toEqual([...p2.map((k) => k.at)].sort((a, b) => a - b));
      expect(await store.purge(T0 + 4_000)).toBe(4_000);
      expect((await store.confirmed(asked)).size).toBe(1_000);
    });
  });
}
