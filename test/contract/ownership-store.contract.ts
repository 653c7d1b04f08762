/**
 * Behavioural contract of {@link PartitionOwnershipStore} (which edge owns which user partition),
 * reusable by every implementation (SQLite now, Redis later).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PartitionOwnershipStore } from '../../stores/types.ts';

/**
 * Builds a fresh empty store for one test, how to dispose of it, and how to let time pass for its
 * leases (a fake clock for SQLite, real waiting for Redis).
 */
export type OwnershipStoreFactory = () => Promise<{ store: PartitionOwnershipStore; cleanup: () => Promise<void>; advance: (ms: number) => Promise<void> }>;

const LEASE = 400; // ms

/** Defines `describe(`PartitionOwnershipStore contract: ${name}`)`. */
export function ownershipStoreContract(name: string, factory: OwnershipStoreFactory): void {
  describe(`PartitionOwnershipStore contract: ${name}`, () => {
    let store: PartitionOwnershipStore;
    let cleanup: () => Promise<void>;
    let advance: (ms: number) => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup, advance } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('knows no owner before a claim', async () => {
      expect(await store.ownerOf('user', 0)).toBeNull();
    });

    it('records the claimed partitions per log, and nothing else', async () => {
      await store.claim('user', [0, 2, 5], 'http://a:1', LEASE);
      expect(await store.ownerOf('user', 0)).toBe('http://a:1');
      expect(await store.ownerOf('user', 5)).toBe('http://a:1');
      expect(await store.ownerOf('user', 1)).toBeNull();
      expect(await store.ownerOf('other', 0)).toBeNull();
    });

    it('lets a newer claim take a partition over; the old owner releasing it leaves the new claim', async () => {
      await store.claim('user', [1], 'http://a:1', LEASE);
      await store.claim('user', [1], 'http://b:2', LEASE);
      expect(await store.ownerOf('user', 1)).toBe('http://b:2');
      await store.release('user', [1], 'http://a:1');
      expect(await store.ownerOf('user', 1)).toBe('http://b:2');
      await store.release('user', [1], 'http://b:2');
      expect(await store.ownerOf('user', 1)).toBeNull();
    });

    it('claims and releases nothing for an empty list', async () => {
      await store.claim('user', [], 'http://a:1', LEASE);
      await store.release('user', [], 'http://a:1');
      expect(await store.ownerOf('user', 0)).toBeNull();
    });

    it('lets a claim lapse when it is not renewed within its lease (a killed edge), and renewing extends it', async () => {
      await store.claim('user', [3], 'http://a:1', LEASE);
      await advance(LEASE / 2);
      expect(await store.ownerOf('user', 3)).toBe('http://a:1');
      await store.claim('user', [3], 'http://a:1', LEASE); // renewal
      await advance(LEASE * 0.75);
      expect(await store.ownerOf('user', 3)).toBe('http://a:1'); // past the first lease, within the renewed one
      await advance(LEASE * 0.5);
      expect(await store.ownerOf('user', 3)).toBeNull();
    });
  });
}
