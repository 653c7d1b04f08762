/** Behavioural contract of {@link PresenceStore}, for the in-memory and the Redis store alike. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PresenceStore } from '../../stores/types.ts';

/** A fresh store, its cleanup, and how to let time pass (fake clock or real waiting). */
export type PresenceStoreFactory = () => Promise<{ store: PresenceStore; cleanup: () => Promise<void>; advance: (ms: number) => Promise<void> }>;

const LEASE = 400; // ms
const GRACE = 200; // ms

/** Defines `describe(`PresenceStore contract: ${name}`)`. */
export function presenceStoreContract(name: string, factory: PresenceStoreFactory): void {
  describe(`PresenceStore contract: ${name}`, () => {
    let store: PresenceStore;
    let cleanup: () => Promise<void>;
    let advance: (ms: number) => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup, advance } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('knows nobody at first; marks connected users online, and only them', async () => {
      expect(await store.onlineOf(['ann', 'bo'])).toEqual(new Set());
      await store.online(['ann', 'cy'], 'http://e1', LEASE);
      expect(await store.onlineOf(['ann', 'bo', 'cy'])).toEqual(new Set(['ann', 'cy']));
      expect(await store.onlineOf([])).toEqual(new Set());
    });

    it('keeps a user online for the grace period after the last stream closes, then not', async () => {
      await store.online(['ann'], 'http://e1', LEASE);
      await store.offline('ann', 'http://e1', GRACE);
      expect(await store.onlineOf(['ann'])).toEqual(new Set(['ann']));
      await advance(GRACE * 1.5);
      expect(await store.onlineOf(['ann'])).toEqual(new Set());
    });

    it('lets an unrenewed lease lapse (a dead edge), while another edge keeps the user online', async () => {
      await store.online(['ann', 'bo'], 'http://dead', LEASE);
      await store.online(['bo'], 'http://alive', LEASE * 3);
      await advance(LEASE * 1.5);
      expect(await store.onlineOf(['ann', 'bo'])).toEqual(new Set(['bo']));
    });

    it('a renewal keeps a user online past the first lease', async () => {
      await store.online(['ann'], 'http://e1', LEASE);
      await advance(LEASE / 2);
      await store.online(['ann'], 'http://e1', LEASE);
      await advance(LEASE * 0.75);
      expect(await store.onlineOf(['ann'])).toEqual(new Set(['ann']));
    });
  });
}
