/**
 * The channel worker's batch core against a real local SMS provider (test/helpers/sms-peer.ts)
 * over loopback, with the real HTTP SMS provider, a memory ProviderRateLimiter and the memory
 * DeliveryStatusStore: rate limits drained in process, once-only sends across replays, 429 pauses,
 * retries to the DLQ, permanent failures, critical first, per-recipient limits and order.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDeliveryStatusStore } from '../../../sinks/channels/memory-status-store.ts';
import { ProviderRateLimiter, type ProviderLimits } from '../../../sinks/channels/rate-limiter.ts';
import { createHttpSmsProvider } from '../../../sinks/channels/sms/http-sms-provider.ts';
import type { ChannelProvider, SmsMessage } from '../../../sinks/channels/types.ts';
import { ChannelWorker, type ChannelWorkerOptions, type SendJob } from '../../../sinks/channels/worker.ts';
import type { DeliveryStatus } from '../../../stores/types.ts';
import { deliveryStatusStoreContract } from '../../contract/delivery-status-store.contract.ts';
import { startSmsPeer, type SmsPeer } from '../../helpers/sms-peer.ts';

const FROM = '+14155550100';
const phone = (n: number): string => `+1415555${String(1000 + n)}`;

/** A first-attempt SMS job for notification `n` to user `u` (recipient = the user's number). */
const job = (n: number, over: Partial<SendJob<SmsMessage>> & { u?: number } = {}): SendJob<SmsMessage> => {
  const u = over.u ?? n;
  const key = `n-${n}:u-${u}:sms`;
  const to = phone(u);
  const { u: _u, ...rest } = over;
  return { key, notification_id: `n-${n}`, user_id: `u-${u}`, channel: 'sms', attempt: 1, not_before_ms: 0, critical: false, recipient: to, message: { key, to, text: `message ${n}` }, ...rest };
};

/** The memory store, counting statusOf/record calls. */
class CountingStore extends MemoryDeliveryStatusStore {
  statusOfCalls = 0;
  recordCalls = 0;
  override async statusOf(keys: readonly string[]): Promise<Map<string, DeliveryStatus>> {
    this.statusOfCalls++;
    return super.statusOf(keys);
  }
  override async record(statuses: readonly DeliveryStatus[]): Promise<void> {
    this.recordCalls++;
    return super.record(statuses);
  }
}

let limiterSeq = 0;

describe('ChannelWorker against a local SMS provider peer', () => {
  let peer: SmsPeer;
  let provider: ChannelProvider<SmsMessage>;
  let store: CountingStore;
  let peerStopped: boolean;

  const worker = (limits: ProviderLimits = { perSecond: 100 }, over: Partial<ChannelWorkerOptions<SmsMessage>> = {}): { w: ChannelWorker<SmsMessage>; limiter: ProviderRateLimiter } => {
    const limiter = new ProviderRateLimiter(`http-sms-test-${++limiterSeq}`, limits, { kind: 'memory' });
    return { w: new ChannelWorker<SmsMessage>({ provider, limiter, statuses: store, ...over }), limiter };
  };

  beforeEach(async () => {
    peer = await startSmsPeer();
    peerStopped = false;
    provider = createHttpSmsProvider({ baseUrl: peer.url, apiToken: peer.token, from: FROM, requestTimeoutMs: 2_000 });
    store = new CountingStore();
  });
  afterEach(async () => {
    await provider.close();
    if (!peerStopped) await peer.stop();
    await store.close();
  });

  it('drains 30 jobs at the provider limit of 10/s within the batch, each exactly once; a replay of the batch sends nothing', async () => {
    peer.setRateLimit(10);
    const { w } = worker({ perSecond: 10 }, { statusFlushMs: 60_000 });
    const jobs = Array.from({ length: 30 }, (_, i) => job(i + 1));
    const t0 = performance.now();
    const out = await w.process(jobs, Date.now());
    const elapsed = performance.now() - t0;

    expect(out.deadLetters).toEqual([]);
    expect(out.retries).toEqual([]);
    expect(out.gone).toEqual([]);
    expect(peer.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(peer.messages).toHaveLength(30);
    expect(new Set(peer.messages.map((m) => m.idempotencyKey))).toEqual(new Set(jobs.map((j) => j.key)));
    expect(elapsed).toBeGreaterThan(1_900); // three windows of 10
    expect(elapsed).toBeLessThan(4_000);
    expect(out.statuses).toHaveLength(30);
    expect(out.statuses.every((s) => s.state === 'sent' && s.attempts === 1 && s.provider_id?.startsWith('SM'))).toBe(true);
    expect(store.statusOfCalls).toBe(1);
    expect(store.recordCalls).toBe(1);

    // (2) the same batch again (a replay after a crash before the offset commit): nothing is sent.
    const again = await w.process(jobs, Date.now());
    expect(again).toEqual({ retries: [], deadLetters: [], statuses: [], gone: [] });
    expect(peer.messages).toHaveLength(30);
    expect(peer.requests).toHaveLength(30);
    expect(store.statusOfCalls).toBe(2);
    expect(store.recordCalls).toBe(1); // nothing to record
  });

  it('records the statuses of a long batch while it runs (every statusFlushMs), so a crash resends little', async () => {
    const { w } = worker({ perSecond: 10 }, { statusFlushMs: 400 });
    const jobs = Array.from({ length: 25 }, (_, i) => job(i + 1));
    const running = w.process(jobs, Date.now());
    await new Promise((r) => setTimeout(r, 1_500));
    // Mid-batch: the first window's sends are recorded already, the last ones not yet sent.
    const midway = (await store.statusOf(jobs.map((j) => j.key))).size;
    expect(midway).toBeGreaterThanOrEqual(10);
    expect(midway).toBeLessThan(25);
    const out = await running;
    expect(out.statuses).toHaveLength(25);
    expect(store.recordCalls).toBeGreaterThanOrEqual(3);
    expect((await store.statusOf(jobs.map((j) => j.key))).size).toBe(25);
    expect(peer.messages).toHaveLength(25);
  });

  it('a key repeated within one batch is sent once', async () => {
    const { w } = worker();
    const out = await w.process([job(1), job(2), job(1)], Date.now());
    expect(peer.requests).toHaveLength(2);
    expect(out.statuses.map((s) => s.key)).toEqual([job(1).key, job(2).key]);
  });

  it('429 with Retry-After: 1 pauses the limiter and retries the job (same attempt: a throttle never counts, not before 1 s); the next job waits the pause out in process', async () => {
    peer.throttleNext(1, '1');
    const { w, limiter } = worker({ perSecond: 100 }, { concurrency: 1 });
    const now = Date.now();
    const one = await w.process([job(1)], now);
    expect(await limiter.pausedForMs()).toBeGreaterThan(0);
    expect(one.retries).toHaveLength(1);
    expect(one.retries[0]).toMatchObject({ key: job(1).key, attempt: 1 });
    expect(one.retries[0]!.not_before_ms).toBeGreaterThanOrEqual(now + 1_000);
    expect(one.statuses).toEqual([expect.objectContaining({ key: job(1).key, state: 'retrying', attempts: 1, last_error: expect.stringContaining('HTTP 429') })]);
    expect(one.deadLetters).toEqual([]);

    // While paused, a job is held in process (pause ≤ 2 s) and then sent.
    const t0 = performance.now();
    const two = await w.process([job(2)], Date.now());
    expect(performance.now() - t0).toBeGreaterThan(200);
    expect(two.statuses).toEqual([expect.objectContaining({ key: job(2).key, state: 'sent' })]);
    expect(peer.messages.map((m) => m.idempotencyKey)).toEqual([job(2).key]);
  });

  it('throttled again and again (429) never ends in the DLQ, even past maxAttempts', async () => {
    const { w } = worker({ perSecond: 100 }, { maxAttempts: 2, concurrency: 1, maxInProcessWaitMs: 0 });
    let current = job(1);
    for (let i = 0; i < 4; i++) {
      peer.throttleNext(1, null);
      const out = await w.process([{ ...current, not_before_ms: 0 }], Date.now() + i * 10_000);
      expect(out.deadLetters).toEqual([]);
      expect(out.retries).toHaveLength(1);
      current = out.retries[0]!;
      expect(current.attempt).toBe(1);
    }
  });

  it('a long provider pause reschedules the job without counting an attempt', async () => {
    const { w, limiter } = worker({ perSecond: 100 }, { maxInProcessWaitMs: 500 });
    await limiter.pause(5_000);
    const now = Date.now();
    const out = await w.process([job(1)], now);
    expect(out.retries).toEqual([{ ...job(1), not_before_ms: expect.any(Number) }]);
    expect(out.retries[0]!.not_before_ms).toBeGreaterThan(now + 3_000);
    expect(out.statuses).toEqual([expect.objectContaining({ key: job(1).key, state: 'pending', attempts: 0, last_error: expect.stringMatching(/waiting for the provider \(paused [45] s\)/) })]);
    expect(peer.requests).toHaveLength(0);
  });

  it('peer down: retries with increasing attempts, then a dead letter with the last error and status failed', async () => {
    await peer.stop();
    peerStopped = true;
    const { w } = worker({ perSecond: 100 }, { maxAttempts: 3, backoff: { baseMs: 10, maxMs: 40 } });
    let batch = [job(1)];
    let now = Date.now();
    const attempts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const out = await w.process(batch, now);
      expect(out.deadLetters).toEqual([]);
      expect(out.retries).toHaveLength(1);
      const r = out.retries[0]!;
      expect(r.attempt).toBe(batch[0]!.attempt + 1);
      expect(r.not_before_ms).toBeGreaterThanOrEqual(now);
      expect(out.statuses).toEqual([expect.objectContaining({ state: 'retrying', attempts: batch[0]!.attempt, last_error: expect.stringContaining('network error') })]);
      attempts.push(r.attempt);
      batch = out.retries;
      now = r.not_before_ms;
    }
    expect(attempts).toEqual([2, 3]);
    const last = await w.process(batch, now);
    expect(last.retries).toEqual([]);
    expect(last.deadLetters).toHaveLength(1);
    expect(last.deadLetters[0]).toMatchObject({ code: 'RETRIES_EXHAUSTED', job: { key: job(1).key, attempt: 3 } });
    expect(last.deadLetters[0]!.reason).toMatch(/network error: ECONNREFUSED/);
    const st = (await store.statusOf([job(1).key])).get(job(1).key);
    expect(st).toMatchObject({ state: 'failed', attempts: 3, last_error: last.deadLetters[0]!.reason });
  });

  it('a permanently rejected number is dead-lettered with HTTP_400 on the first attempt', async () => {
    peer.rejectNumber(phone(7), 'unreachable number');
    const { w } = worker();
    const out = await w.process([job(7), job(8)], Date.now());
    expect(out.deadLetters).toEqual([{ job: job(7), reason: 'unreachable number', code: 'HTTP_400' }]);
    expect(out.retries).toEqual([]);
    expect(out.statuses).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: job(7).key, state: 'failed', attempts: 1, last_error: 'unreachable number' }),
        expect.objectContaining({ key: job(8).key, state: 'sent' }),
      ]),
    );
    // Final: the replay sends nothing.
    await w.process([job(7), job(8)], Date.now());
    expect(peer.requests).toHaveLength(2);
  });

  it('sends critical jobs before bulk ones, stable otherwise', async () => {
    const { w } = worker({ perSecond: 100 }, { concurrency: 1 });
    const jobs = [job(1), job(2, { critical: true }), job(3), job(4, { critical: true }), job(5), job(6, { critical: true })];
    await w.process(jobs, Date.now());
    expect(peer.messages.map((m) => m.text)).toEqual(['message 2', 'message 4', 'message 6', 'message 1', 'message 3', 'message 5']);
  });

  it('keeps the order of one recipient\'s jobs with concurrent sends', async () => {
    const { w } = worker({ perSecond: 100 }, { concurrency: 4 });
    peer.delayNext(1, 150); // the first send of recipient 1 is slow: its next job must still come after it
    const jobs = [job(1, { u: 1 }), job(2, { u: 2 }), job(3, { u: 1 }), job(4, { u: 3 }), job(5, { u: 1 })];
    const out = await w.process(jobs, Date.now());
    expect(out.statuses).toHaveLength(5);
    const forUser1 = peer.messages.filter((m) => m.to === phone(1)).map((m) => m.text);
    expect(forUser1).toEqual(['message 1', 'message 3', 'message 5']);
    // Other recipients did not wait for recipient 1's slow send.
    expect(peer.messages.findIndex((m) => m.text === 'message 2')).toBeLessThan(peer.messages.findIndex((m) => m.text === 'message 3'));
  });

  it('a provider that rejects (a programming error): the completed sends are recorded, then the error is rethrown', async () => {
    const real = provider;
    provider = {
      channel: 'sms',
      name: 'http-sms',
      send: (m, signal) => (m.key === job(2).key ? Promise.reject(new TypeError('boom')) : real.send(m, signal)),
      close: () => real.close(),
    };
    const { w } = worker({ perSecond: 100 }, { concurrency: 1 });
    await expect(w.process([job(1), job(2), job(3)], Date.now())).rejects.toThrow('boom');
    expect(store.recordCalls).toBe(1);
    expect([...(await store.statusOf([job(1).key, job(2).key, job(3).key])).keys()]).toEqual([job(1).key]);
    expect(peer.messages.map((m) => m.text)).toEqual(['message 1']);
  });

  it('a per-recipient limit (2/hour) reschedules the third job for that recipient without counting an attempt', async () => {
    const { w } = worker({ perSecond: 100, perRecipientPerHour: 2 });
    const now = Date.now();
    const jobs = [job(1, { u: 1 }), job(2, { u: 1 }), job(3, { u: 1 }), job(4, { u: 2 })];
    const out = await w.process(jobs, now);
    expect(peer.messages.map((m) => m.text).sort()).toEqual(['message 1', 'message 2', 'message 4']);
    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]).toEqual({ ...job(3, { u: 1 }), not_before_ms: expect.any(Number) });
    expect(out.retries[0]!.attempt).toBe(1);
    expect(out.retries[0]!.not_before_ms).toBeGreaterThan(now + 3_500_000);
    expect(out.statuses.filter((s) => s.state === 'sent').map((s) => s.key).sort()).toEqual([job(1, { u: 1 }).key, job(2, { u: 1 }).key, job(4, { u: 2 }).key].sort());
    expect(out.statuses.find((s) => s.key === job(3, { u: 1 }).key)).toMatchObject({ state: 'pending', last_error: expect.stringContaining("recipient's hourly limit") });
    expect(out.deadLetters).toEqual([]);

    // A critical send is not held back by the hourly budget bulk sends used up.
    const urgent = await w.process([{ ...job(5, { u: 1 }), critical: true }], Date.now());
    expect(urgent.statuses).toEqual([expect.objectContaining({ state: 'sent' })]);
    expect(peer.messages.map((m) => m.text)).toContain('message 5');
  });

  it('jobs not due yet come back untouched and are not sent', async () => {
    const { w } = worker();
    const now = Date.now();
    const later = job(1, { attempt: 3, not_before_ms: now + 60_000 });
    const out = await w.process([later, job(2)], now);
    expect(out.retries).toEqual([later]);
    expect(out.retries[0]).toBe(later);
    expect(peer.messages.map((m) => m.text)).toEqual(['message 2']);
    expect(out.statuses.map((s) => s.key)).toEqual([job(2).key]);
  });
});

deliveryStatusStoreContract('memory', async () => {
  const store = new MemoryDeliveryStatusStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryDeliveryStatusStore', () => {
  it('keeps a final state against a later non-final record in the same batch and copies statuses in and out', async () => {
    const store = new MemoryDeliveryStatusStore();
    const sent: DeliveryStatus = { key: 'n:u:sms', notification_id: 'n', user_id: 'u', channel: 'sms', state: 'sent', attempts: 1, provider_id: 'SM1', updated_at: 1 };
    await store.record([sent, { ...sent, state: 'retrying', attempts: 2, last_error: 'late', updated_at: 2 }]);
    sent.attempts = 99;
    const got = (await store.statusOf(['n:u:sms'])).get('n:u:sms')!;
    expect(got).toMatchObject({ state: 'sent', attempts: 1, provider_id: 'SM1', updated_at: 1 });
    got.state = 'pending';
    expect((await store.deliveriesOf('n', 'u'))[0]!.state).toBe('sent');
    await store.close();
    await expect(store.statusOf(['n:u:sms'])).rejects.toThrow(/closed/);
  });
});
