/**
 * Behavioural contract of {@link PartitionOwnershipStore} (which edge owns which user partition),
 * reusable by every implementation (SQLite now, Redis later).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PartitionOwnershipStore } from '../../stores/types.ts';

/** Builds a fresh empty store for one test, and how to dispose of it. */
export type OwnershipStoreFactory = () => Promise<{ store: PartitionOwnershipStore; cleanup: () => Promise<void> }>;

/** Defines `describe(`PartitionOwnershipStore contract: ${name}`)`. */
export function ownershipStoreContract(name: string, factory: OwnershipStoreFactory): void {
  describe(`PartitionOwnershipStore contract: ${name}`, () => {
    let store: PartitionOwnershipStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('knows no owner before a claim', async () => {
      expect(await store.ownerOf('user', 0)).toBeNull();
    });

    it('records the claimed partitions per log, and nothing else', async () => {
      await store.claim('user', [0, 2, 5], 'http://a:1');
      expect(await store.ownerOf('user', 0)).toBe('http://a:1');
      expect(await store.ownerOf('user', 5)).toBe('http://a:1');
      expect(await store.ownerOf('user', 1)).toBeNull();
      expect(await store.ownerOf('other', 0)).toBeNull();
    });

    it('lets a newer claim take a partition over; the old owner releasing it leaves the new claim', async () => {
      await store.claim('user', [1], 'http://a:1');
      await store.claim('user', [1], 'http://b:2');
      expect(await store.ownerOf('user', 1)).toBe('http://b:2');
      await store.release('user', [1], 'http://a:1');
      expect(await store.ownerOf('user', 1)).toBe('http://b:2');
      await store.release('user', [1], 'http://b:2');
      expect(await store.ownerOf('user', 1)).toBeNull();
    });

    it('claims and releases nothing for an empty list', async () => {
      await store.claim('user', [], 'http://a:1');
      await store.release('user', [], 'http://a:1');
      expect(await store.ownerOf('user', 0)).toBeNull();
    });
  });
}
