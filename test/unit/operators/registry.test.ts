import { describe, expect, it } from 'vitest';
import { OPERATORS, operatorRegistration, sinkRegistration } from '../../../operators/registry.ts';
import { createPartitionState } from '../../../operators/runtime/partition-state.ts';
import { WindowedBloomFilter } from '../../../operators/bloom-dedup/windowed-bloom-filter.ts';
import { fanoutStage } from './helpers.ts';
import { MemoryDedupStore } from './fixtures/memory-stores.ts';

describe('operator registry', () => {
  it('builds every operator of the default fanout stage', () => {
    for (const node of fanoutStage().operators) expect(typeof operatorRegistration(node.type).create(node.options).process).toBe('function');
    expect(typeof sinkRegistration('routing').create({}).write).toBe('function');
  });
  it('rejects unknown types with HERALD_OPERATOR_UNKNOWN, including prototype names', () => {
    for (const type of ['nope', '__proto__', 'constructor', 'toString']) {
      expect(() => operatorRegistration(type)).toThrowError(expect.objectContaining({ code: 'HERALD_OPERATOR_UNKNOWN' }));
      expect(() => sinkRegistration(type)).toThrowError(expect.objectContaining({ code: 'HERALD_OPERATOR_UNKNOWN' }));
    }
  });
  it('only bloom-dedup keeps partition state; createPartitionState restores it from keysSince', async () => {
    expect([...OPERATORS].filter(([, r]) => r.partitionState).map(([t]) => t)).toEqual(['bloom-dedup']);
    const dedup = new MemoryDedupStore();
    const now = 1_700_000_000_000;
    await dedup.confirm([{ key: 't\u0000a', partition: 2, at: now - 1_000 }, { key: 't\u0000b', partition: 3, at: now - 1_000 }]);
    const state = await createPartitionState(fanoutStage(), 2, dedup, now);
    expect(Object.keys(state)).toEqual(['dedup']);
    const filter = new WindowedBloomFilter(state.dedup!);
    expect(filter.has('t\u0000a')).toBe(true);
    expect(filter.has('t\u0000b')).toBe(false);
  });
});
