/**
 * Behavioural contract of {@link IdempotencyStore} (Idempotency-Key claims of POST /publish),
 * reusable by every implementation. The factory returns a fresh, empty store per test whose clock
 * for "claim made at" is the real clock (purge is tested relative to Date.now()).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IdempotencyRecord, IdempotencyStore } from '../../stores/types.ts';
import { T0, uuidV7At } from './fixtures.ts';

/** Builds a fresh empty store for one test, and how to dispose of it. */
export type IdempotencyStoreFactory = () => Promise<{ store: IdempotencyStore; cleanup: () => Promise<void> }>;

function candidate(n: number): IdempotencyRecord {
  return { id: uuidV7At(T0 + n, n), published_at: new Date(T0 + n).toISOString(), state: 'pending', fingerprint: `fp-${n}` };
}

/** Defines `describe(`IdempotencyStore contract: ${name}`)` with the whole suite. */
export function idempotencyStoreContract(name: string, factory: IdempotencyStoreFactory): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let store: IdempotencyStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('the first claim wins and returns the candidate', async () => {
      expect(await store.claim('t1', 'key-1', candidate(1))).toEqual({ record: candidate(1), created: true });
    });

    it('later claims return the first record, not their own candidate', async () => {
      await store.claim('t1', 'key-1', candidate(1));
      expect(await store.claim('t1', 'key-1', candidate(2))).toEqual({ record: candidate(1), created: false });
      expect(await store.claim('t1', 'key-1', candidate(3))).toEqual({ record: candidate(1), created: false });
    });

    it('claims are per (topic_id, key): same key on another topic, other key on the same topic', async () => {
      await store.claim('t1', 'key-1', candidate(1));
      expect((await store.claim('t2', 'key-1', candidate(2))).created).toBe(true);
      expect((await store.claim('t1', 'key-2', candidate(3))).created).toBe(true);
      expect((await store.claim('t1', 'KEY-1', candidate(4))).created).toBe(true);
      expect((await store.claim('007', '1e3', candidate(5))).record).toEqual(candidate(5));
      expect((await store.claim('7', '1000', candidate(6))).created).toBe(true);
    });

    it('keys up to 255 characters with any printable characters', async () => {
      const key = `${'k'.repeat(200)} !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`.slice(0, 255);
      expect((await store.claim('t1', key, candidate(1))).created).toBe(true);
      expect(await store.claim('t1', key, candidate(2))).toEqual({ record: candidate(1), created: false });
    });

    it('concurrent claims of one key: exactly one created, everyone gets the same record', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => store.claim('t1', 'race', candidate(i))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.find((r) => r.created)?.record;
      for (const r of results) expect(r.record).toEqual(winner);
    });

    it('markAppended moves the claim to appended; later claims see it; it is idempotent', async () => {
      await store.claim('t1', 'key-1', candidate(1));
      await store.markAppended('t1', 'key-1');
      await store.markAppended('t1', 'key-1');
      expect(await store.claim('t1', 'key-1', candidate(2))).toEqual({ record: { ...candidate(1), state: 'appended' }, created: false });
      expect((await store.claim('t2', 'key-1', candidate(3))).record.state).toBe('pending');
    });

    it('markAppended of a claim that does not exist does nothing and does not create one', async () => {
      await store.markAppended('t1', 'missing');
      expect(await store.claim('t1', 'missing', candidate(1))).toEqual({ record: candidate(1), created: true });
    });

    it('purge deletes claims made before beforeMs and counts them; the key can then be claimed anew', async () => {
      await store.claim('t1', 'key-1', candidate(1));
      await store.claim('t1', 'key-2', candidate(2));
      expect(await store.purge(Date.now() - 60_000)).toBe(0);
      expect(await store.claim('t1', 'key-1', candidate(3))).toEqual({ record: candidate(1), created: false });
      expect(await store.purge(Date.now() + 60_000)).toBe(2);
      expect(await store.claim('t1', 'key-1', candidate(3))).toEqual({ record: candidate(3), created: true });
      expect(await store.purge(Date.now() - 60_000)).toBe(0);
    });
  });
}
