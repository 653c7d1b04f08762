import { describe, expect, it } from 'vitest';
import { SubscriptionJoinOperator } from '../../../operators/subscription-join/subscription-join.ts';
import { batchContext, chainRecords, fanoutStage, publish } from './helpers.ts';
import { MemoryDedupStore, MemorySubscriptionStore } from './fixtures/memory-stores.ts';

const T0 = 1_700_000_000_000;

async function setup() {
  const subscriptions = new MemorySubscriptionStore();
  await subscriptions.subscribe('t1', 'alice', T0 - 1_000);
  await subscriptions.subscribe('t1', 'bob', T0 + 5_000); // subscribed after the first publish
  await subscriptions.subscribe('t2', 'carol', T0 - 1_000);
  const op = new SubscriptionJoinOperator({});
  const stage = fanoutStage();
  op.init({ stage, node: stage.operators[0]!, stores: { subscriptions, dedup: new MemoryDedupStore() } });
  return { subscriptions, op };
}

describe('subscription-join', () => {
  it('makes ONE subscribersForFanout call per batch for the distinct topic_ids', async () => {
    const { subscriptions, op } = await setup();
    const batch = chainRecords([publish('t1', T0), publish('t2', T0), publish('t1', T0 + 1), publish('t3', T0)]);
    await op.process(batch, batchContext(T0));
    expect(subscriptions.lookups).toEqual([['t1', 't2', 't3']]);
  });

  it('keeps only users subscribed at publish time (subscribed_at ≤ published_at)', async () => {
    const { op } = await setup();
    const batch = chainRecords([publish('t1', T0), publish('t1', T0 + 5_000), publish('t2', T0)]);
    const out = await op.process(batch, batchContext(T0 + 60_000));
    expect(out.map((r) => r.recipients)).toEqual([['alice'], ['alice', 'bob'], ['carol']]);
  });

  it('drops notifications without recipients (unknown topic, or every subscriber came later)', async () => {
    const { subscriptions, op } = await setup();
    await subscriptions.subscribe('late', 'dave', T0 + 1);
    const out = await op.process(chainRecords([publish('t3', T0), publish('late', T0)]), batchContext(T0));
    expect(out).toEqual([]);
  });

  it('skips the store for an empty batch and passes store failures through', async () => {
    const { subscriptions, op } = await setup();
    expect(await op.process([], batchContext(T0))).toEqual([]);
    expect(subscriptions.lookups).toHaveLength(0);
    subscriptions.subscribersForFanout = () => Promise.reject(Object.assign(new Error('down'), { code: 'HERALD_STORE_FAILED' }));
    await expect(op.process(chainRecords([publish('t1', T0)]), batchContext(T0))).rejects.toMatchObject({ code: 'HERALD_STORE_FAILED' });
  });

  it('delivers what was published during any subscription period, even when fanned out after an unsubscribe or a new period', async () => {
    const { subscriptions, op } = await setup();
    await subscriptions.unsubscribe('t1', 'alice', T0 + 10); // period 1: [T0-1000, T0+10)
    await subscriptions.subscribe('t1', 'alice', T0 + 20); //   period 2: [T0+20, …)
    const batch = chainRecords([publish('t1', T0), publish('t1', T0 + 15), publish('t1', T0 + 25), publish('t1', T0 + 10)]);
    const out = await op.process(batch, batchContext(T0 + 60_000));
    // T0: alice (period 1). T0+15: between periods, bob not yet: dropped. T0+25: alice once (period 2).
    // T0+10: the unsubscribe instant is outside period 1.
    expect(out.map((r) => [r.publishedAtMs - T0, r.recipients])).toEqual([
      [0, ['alice']],
      [25, ['alice']],
    ]);
  });
});
