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

    it('reopens failed statuses only (a DLQ replay): retrying with the reason, attempts kept; then they move forward again', async () => {
      const failed = status({ notification_id: 'r1', user_id: 'u:1', channel: 'sms', state: 'failed', attempts: 12, last_error: 'HTTP 503' });
      const sent = status({ notification_id: 'r1', user_id: 'u2', channel: 'sms', state: 'sent', attempts: 1, provider_id: 'm-1' });
      const gone = status({ notification_id: 'r1', user_id: 'u3', channel: 'push', state: 'gone', attempts: 1 });
      const retrying = status({ notification_id: 'r1', user_id: 'u4', channel: 'email', state: 'retrying', attempts: 3, last_error: '421' });
      await store.record([failed, sent, gone, retrying]);
      const all = [failed, sent, gone, retrying, status({ notification_id: 'r9', user_id: 'u9', channel: 'sms' })];
      expect(await store.reopen(all, 'replayed from the DLQ', T0 + 5)).toBe(1);
      const got = await store.statusOf(all.map((s) => s.key));
      expect(got.get(failed.key)).toEqual({ ...failed, state: 'retrying', last_error: 'replayed from the DLQ', updated_at: T0 + 5 });
      expect(got.get(sent.key)).toEqual(sent);
      expect(got.get(gone.key)).toEqual(gone);
      expect(got.get(retrying.key)).toEqual(retrying);
      expect(got.has('r9:u9:sms')).toBe(false);
      // Reopened, the send is no longer final: the worker's records move it on, and final holds again.
      const { last_error: _, ...withoutError } = failed;
      await store.record([{ ...withoutError, state: 'sent', attempts: 13, provider_id: 'm-13', updated_at: T0 + 6 }]);
      await store.record([{ ...failed, state: 'retrying', updated_at: T0 + 7 }]);
      expect((await store.statusOf([failed.key])).get(failed.key)).toMatchObject({ state: 'sent', provider_id: 'm-13', updated_at: T0 + 6 });
      expect(await store.reopen([failed], 'again', T0 + 8)).toBe(0);
      expect(await store.reopen([], 'nothing', T0 + 9)).toBe(0);
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

    it('orders a user\'s deliveries by channel, then key (push keys may carry a per-device suffix)', async () => {
      const n = '0190f3a0-0000-7000-8000-000000000001';
      await store.record([
        status({ notification_id: n, user_id: 'ada', channel: 'sms', state: 'sent' }),
        status({ notification_id: n, user_id: 'ada', channel: 'push', key: `${n}:ada:push:dev-b`, state: 'gone' }),
        status({ notification_id: n, user_id: 'ada', channel: 'email', state: 'retrying', attempts: 1 }),
        status({ notification_id: n, user_id: 'ada', channel: 'push', key: `${n}:ada:push:dev-a`, state: 'sent' }),
      ]);
      expect((await store.deliveriesOf(n, 'ada')).map((s) => s.key)).toEqual([`${n}:ada:email`, `${n}:ada:push:dev-a`, `${n}:ada:push:dev-b`, `${n}:ada:sms`]);
      const got = await store.statusOf([`${n}:ada:push:dev-a`, `${n}:ada:push:dev-b`, `${n}:ada:push`]);
      expect([...got.keys()].sort()).toEqual([`${n}:ada:push:dev-a`, `${n}:ada:push:dev-b`]);
    });

    it('finds keys of user_ids that contain ":" or a channel name', async () => {
      const users = ['a:b', 'x:sms:y', 'email', 'push:1', 'u:v:w'];
      const list = users.map((u) => status({ notification_id: 'n3', user_id: u, channel: 'sms', state: 'sent', attempts: 1 }));
      await store.record(list);
      const got = await store.statusOf(list.map((s) => s.key));
      for (const s of list) expect(got.get(s.key), s.key).toEqual(s);
      for (const u of users) expect((await store.deliveriesOf('n3', u)).map((s) => s.user_id)).toEqual([u]);
    });

    it('applies a key recorded twice in one batch in order, final state kept', async () => {
      const a = status({ notification_id: 'n4', user_id: 'u4', channel: 'email' });
      const b = status({ notification_id: 'n4', user_id: 'u4', channel: 'sms' });
      await store.record([
        { ...a, state: 'retrying', attempts: 1, last_error: 'HTTP 503' },
        { ...b, state: 'sent', attempts: 1, provider_id: 'm-b' },
        { ...a, state: 'sent', attempts: 2, provider_id: 'm-a', updated_at: T0 + 1 },
        { ...b, state: 'retrying', attempts: 2, last_error: 'late', updated_at: T0 + 2 },
      ]);
      const got = await store.statusOf([a.key, b.key]);
      expect(got.get(a.key)).toEqual({ ...a, state: 'sent', attempts: 2, provider_id: 'm-a', updated_at: T0 + 1 });
      expect(got.get(b.key)).toEqual({ ...b, state: 'sent', attempts: 1, provider_id: 'm-b' });
    });

    it('records a batch spanning many users and reads it back in one call', async () => {
      const list = Array.from({ length: 60 }, (_, i) => status({ notification_id: 'n5', user_id: `user-${i}`, channel: i % 2 ? 'sms' : 'email', state: 'sent', attempts: 1, provider_id: `p-${i}` }));
      await store.record(list);
      const got = await store.statusOf(list.map((s) => s.key));
      expect(got.size).toBe(60);
      for (const s of list) expect(got.get(s.key)).toEqual(s);
      expect(await store.purge(T0 + 1)).toBe(60);
      expect((await store.statusOf(list.map((s) => s.key))).size).toBe(0);
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
