import { describe, expect, it } from 'vitest';
import { BloomDedupOperator, dedupKey } from '../../../operators/bloom-dedup/bloom-dedup.ts';
import { parseBloomDedupOptions } from '../../../operators/bloom-dedup/options.ts';
import { bloomRestoreSinceMs, createBloomState, restoreBloomState } from '../../../operators/bloom-dedup/state.ts';
import { WindowedBloomFilter } from '../../../operators/bloom-dedup/windowed-bloom-filter.ts';
import { batchContext, chainRecords, fanoutStage, publish } from './helpers.ts';
import { MemoryDedupStore, MemorySubscriptionStore } from './fixtures/memory-stores.ts';

const T0 = 1_700_000_000_000;

function setup(options: Record<string, unknown> = {}) {
  const dedup = new MemoryDedupStore();
  const op = new BloomDedupOperator(options);
  const stage = fanoutStage();
  op.init({ stage, node: stage.operators[1]!, stores: { dedup, subscriptions: new MemorySubscriptionStore() } });
  const state = createBloomState(op.options);
  return { dedup, op, state };
}

describe('bloom-dedup', () => {
  it('keys by topic_id NUL (idempotency_key ?? id)', () => {
    const [a, b] = chainRecords([publish('t1', T0, 'k1'), publish('t1', T0)]);
    expect(dedupKey(a!, 'idempotency_key')).toBe('t1\u0000k1');
    expect(dedupKey(b!, 'idempotency_key')).toBe(`t1\u0000${b!.value.id}`);
    expect(dedupKey(a!, 'id')).toBe(`t1\u0000${a!.value.id}`);
  });

  it('passes new records and returns their keys as confirmations (never writes the store)', async () => {
    const { dedup, op, state } = setup();
    const ctx = batchContext(T0, state);
    const out = await op.process(chainRecords([publish('t1', T0, 'a'), publish('t2', T0, 'a')]), ctx);
    expect(out).toHaveLength(2);
    expect(ctx.collector.confirmations).toEqual(['t1\u0000a', 't2\u0000a']);
    expect(dedup.entries.size).toBe(0);
    expect(dedup.lookups).toHaveLength(0); // no positives → no store round trip
  });

  it('drops replays confirmed by the exact store, with ONE confirmed() call per batch', async () => {
    const { dedup, op, state } = setup();
    const first = batchContext(T0, state);
    await op.process(chainRecords([publish('t1', T0, 'a'), publish('t1', T0, 'b')]), first);
    await dedup.confirm(first.collector.confirmations.map((key) => ({ key, partition: 0, at: T0 })));
    const ctx = batchContext(T0 + 1, state);
    const out = await op.process(chainRecords([publish('t1', T0, 'a'), publish('t1', T0, 'c'), publish('t1', T0, 'b')]), ctx);
    expect(out.map((r) => r.value.idempotency_key)).toEqual(['c']);
    expect(ctx.collector.stats.duplicates).toBe(2);
    expect(ctx.collector.stats.bloomPositives).toBe(2);
    expect(dedup.lookups).toEqual([['t1\u0000a', 't1\u0000b']]);
  });

  it('keeps a Bloom false positive (forced with a tiny filter) and counts it', async () => {
    const { dedup, op, state } = setup({ expected_keys_per_window: 100, false_positive_rate: 0.5, windows: 1 });
    // One window sized for 100 keys at p=0.5: 160 bits, k=1, so new keys soon test positive.
    const records = chainRecords(Array.from({ length: 200 }, (_, i) => publish('t', T0, `k${i}`)));
    const ctx = batchContext(T0, state);
    const out = await op.process(records, ctx);
    expect(out).toHaveLength(200); // nothing is dropped: none was confirmed
    expect(ctx.collector.stats.bloomFalsePositives).toBeGreaterThan(0);
    expect(ctx.collector.stats.bloomFalsePositives).toBe(ctx.collector.stats.bloomPositives);
    expect(ctx.collector.stats.duplicates).toBe(0);
    expect(ctx.collector.confirmations).toHaveLength(200);
    expect(dedup.lookups).toHaveLength(1);
  });

  it('drops duplicates within the same batch without asking the store', async () => {
    const { dedup, op, state } = setup();
    const ctx = batchContext(T0, state);
    const out = await op.process(chainRecords([publish('t1', T0, 'a'), publish('t1', T0, 'b'), publish('t1', T0 + 5, 'a'), publish('t1', T0, 'a')]), ctx);
    expect(out.map((r) => r.value.idempotency_key)).toEqual(['a', 'b']);
    expect(ctx.collector.stats.duplicates).toBe(2);
    expect(ctx.collector.confirmations).toEqual(['t1\u0000a', 't1\u0000b']);
    expect(dedup.lookups).toHaveLength(0);
  });

  it('a batch retried after a crash (keys in the filter, not in the store) is kept, not lost', async () => {
    const { op, state } = setup();
    const records = [publish('t1', T0, 'a'), publish('t1', T0, 'b')];
    await op.process(chainRecords(records), batchContext(T0, state));
    const retry = batchContext(T0 + 10, state);
    const out = await op.process(chainRecords(records), retry);
    expect(out).toHaveLength(2);
    expect(retry.collector.stats.bloomFalsePositives).toBe(2);
  });

  it('fails the batch without partition state', async () => {
    const { op } = setup();
    await expect(op.process(chainRecords([publish('t1', T0)]), batchContext(T0))).rejects.toMatchObject({ code: 'HERALD_OPERATOR_FAILED' });
  });

  it('rejects invalid options with HERALD_TOPOLOGY_INVALID naming the path', () => {
    expect(() => new BloomDedupOperator({ windows: 0 })).toThrowError(expect.objectContaining({ code: 'HERALD_TOPOLOGY_INVALID', message: expect.stringContaining('windows') }));
    expect(() => new BloomDedupOperator({ bogus: 1 })).toThrowError(expect.objectContaining({ code: 'HERALD_TOPOLOGY_INVALID' }));
    expect(() => new BloomDedupOperator(JSON.parse('{"__proto__": {"windows": 0}}'))).toThrowError(expect.objectContaining({ code: 'HERALD_TOPOLOGY_INVALID' }));
  });

  it('restores state from DedupStore.keysSince on assignment: replays after a restart are dropped', async () => {
    const options = parseBloomDedupOptions({ window_ms: 60_000, windows: 3 });
    const dedup = new MemoryDedupStore();
    await dedup.confirm([
      { key: 't1\u0000old', partition: 0, at: T0 - 10 * 60_000 },
      { key: 't1\u0000a', partition: 0, at: T0 - 100_000 },
      { key: 't1\u0000b', partition: 0, at: T0 - 1_000 },
    ]);
    const sab = createBloomState(options);
    const keys = await dedup.keysSince(0, bloomRestoreSinceMs(options, T0));
    expect(keys.map((k) => k.key)).toEqual(['t1\u0000a', 't1\u0000b']);
    restoreBloomState(sab, options, keys, T0);
    const filter = new WindowedBloomFilter(sab);
    expect(filter.has('t1\u0000a')).toBe(true);
    expect(filter.has('t1\u0000b')).toBe(true);
    expect(filter.has('t1\u0000old')).toBe(false);
    expect(() => restoreBloomState(sab, { ...options, windows: 4 }, [], T0)).toThrowError(expect.objectContaining({ code: 'HERALD_OPERATOR_FAILED' }));
  });
});
