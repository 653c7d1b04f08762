/** Behaviour every DeliveryStatusStore must have (the once-only record of channel sends). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryStatus, DeliveryStatusStore } from '../../stores/types.ts';

const T0 = 1_800_000_000_000;
const status = (over: Partial<DeliveryStatus> & { notification_id: string; user_id: string; channel: DeliveryStatus['channel'] }): DeliveryStatus => ({
  key: `${over.notification_id}:${over.user_id}:${over.channel}`,
  state: 'pending',
  attempts: 0,
  updated_at: T0,
  ...over,
});

export function deliveryStatusStoreContract(name: string, open: () => Promise<{ store: DeliveryStatusStore; cleanup: () => Promise<void> }>): void {
  describe(`DeliveryStatusStore contract: ${name}`, () => {
    let store: DeliveryStatusStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('records and reads back statuses in one batch; unknown keys are absent', async () => {
      const a = status({ notification_id: 'n1', user_id: 'u1', channel: 'email', state: 'sent', attempts: 1, provider_id: 'p-1' });
      const b = status({ notification_id: 'n1', user_id: 'u1', channel: 'sms', state: 'retrying', attempts: 2, last_error: 'HTTP 503' });
      await store.record([a, b]);
      const got = await store.statusOf([a.key, b.key, 'n9:u9:push']);
      expect(got.get(a.key)).toEqual(a);
      expect(got.get(b.key)).toEqual(b);
      expect(got.has('n9:u9:push')).toBe(false);
      expect(await store.statusOf([])).toEqual(new Map());
    });

    it('never overwrites a final state (sent, failed, gone, skipped) with a later record', async () => {
      for (const final of ['sent', 'failed', 'gone', 'skipped'] as const) {
        const s = status({ notification_id: `n-${final}`, user_id: 'u1', channel: 'push', state: final, attempts: 1, updated_at: T0 });
        await store.record([s]);
        await store.record([{ ...s, state: 'retrying', attempts: 2, last_error: 'late retry', updated_at: T0 + 1 }]);
        expect((await store.statusOf([s.key])).get(s.key)).toEqual(s);
      }
    });

    it('moves a non-final state forward (pending → retrying → sent)', async () => {
      const s = status({ notification_id: 'n2', user_id: 'u2', channel: 'sms' });
      await store.record([s]);
      await store.record([{ ...s, state: 'retrying', attempts: 1, last_error: '429', updated_at: T0 + 1 }]);
      await store.record([{ ...s, state: 'sent', attempts: 2, provider_id: 'm-2', updated_at: T0 + 2 }]);
      expect((await store.statusOf([s.key])).get(s.key)).toMatchObject({ state: 'sent', attempts: 2, provider_id: 'm-2', updated_at: T0 + 2 });
    });

    it('lists one notification\'s channels for one user only, ids as strings', async () => {
      await store.record([
        status({ notification_id: '01', user_id: '1', channel: 'email', state: 'sent' }),
        status({ notification_id: '01', user_id: '1', channel: 'push', state: 'gone' }),
        status({ notification_id: '01', user_id: '01', channel: 'email', state: 'sent' }),
        status({ notification_id: '1', user_id: '1', channel: 'sms', state: 'sent' }),
      ]);
      const list = await store.deliveriesOf('01', '1');
      expect(list.map((s) => [s.channel, s.state])).toEqual([
        ['email', 'sent'],
        ['push', 'gone'],
      ]);
      expect(await store.deliveriesOf('02', '1')).toEqual([]);
    });

    it('purges statuses last changed before a time, and counts them', async () => {
      await store.record([
        status({ notification_id: 'old', user_id: 'u', channel: 'email', state: 'sent', updated_at: T0 - 10 }),
        status({ notification_id: 'new', user_id: 'u', channel: 'email', state: 'sent', updated_at: T0 + 10 }),
      ]);
      expect(await store.purge(T0)).toBe(1);
      expect([...(await store.statusOf(['old:u:email', 'new:u:email'])).keys()]).toEqual(['new:u:email']);
    });
  });
}
