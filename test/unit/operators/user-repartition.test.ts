import { describe, expect, it } from 'vitest';
import { CRITICAL_MARK } from '../../../core/types.ts';
import { partitionFor } from '../../../log/murmur2.ts';
import { RecordCursor } from '../../../log/record-codec.ts';
import { UserRepartitionOperator } from '../../../operators/user-repartition/user-repartition.ts';
import { RoutingSink } from '../../../sinks/routing/routing-sink.ts';
import { batchContext, chainRecords, fanoutStage, publish, USER_LOG } from './helpers.ts';
import { MemoryDedupStore, MemorySubscriptionStore } from './fixtures/memory-stores.ts';

const T0 = 1_700_000_000_000;
const stores = { subscriptions: new MemorySubscriptionStore(), dedup: new MemoryDedupStore() };

function joined(users: string[][]) {
  const records = chainRecords(users.map((_, i) => publish(`t${i}`, T0, `k${i}`, { text: `n${i}` })));
  records.forEach((r, i) => (r.recipients = users[i]!));
  return records;
}

describe('user-repartition + routing sink', () => {
  const stage = fanoutStage();
  const op = new UserRepartitionOperator({});
  op.init({ stage, node: stage.operators[2]!, stores });
  const sink = new RoutingSink();
  sink.init({ stage, node: stage.sinks[0]! });

  it('chooses each recipient partition with partitionFor(user_id, partitions) (Kafka murmur2)', () => {
    const users = Array.from({ length: 50 }, (_, i) => `user-${i}`);
    const [record] = op.process(joined([users]), batchContext(T0, undefined, { [USER_LOG]: 7 }));
    expect(record!.routed!.log).toBe(USER_LOG);
    expect([...record!.routed!.partitions]).toEqual(users.map((u) => partitionFor(u, 7)));
  });

  it('encodes the Notification JSON once and writes one record per recipient with those bytes', () => {
    const ctx = batchContext(T0, undefined, { [USER_LOG]: 12 });
    const routed = op.process(joined([['alice', 'bob'], ['carol']]), ctx);
    expect(routed[0]!.routed!.value).toBe(routed[0]!.routed!.value); // one Uint8Array per notification
    sink.write(routed, ctx);
    expect(ctx.collector.outputs).toHaveLength(1);
    const { log, records } = ctx.collector.outputs[0]!;
    expect(log).toBe(USER_LOG);
    expect(records.byteOffset).toBe(0);
    expect(records.byteLength).toBe(records.buffer.byteLength); // owns its buffer: transferable
    const c = new RecordCursor(records);
    const got: { key: string | null; partition: number; value: unknown; ts: number }[] = [];
    while (c.next()) got.push({ key: c.keyString(), partition: c.partition, value: JSON.parse(c.valueString()), ts: c.timestamp });
    expect(got.map((g) => g.key)).toEqual(['alice', 'bob', 'carol']);
    expect(got.map((g) => g.partition)).toEqual(['alice', 'bob', 'carol'].map((u) => partitionFor(u, 12)));
    const first = routed[0]!.value;
    expect(got[0]!.value).toEqual({ id: first.id, topic_id: 't0', message: { text: 'n0' }, published_at: first.published_at });
    expect(Object.keys(got[0]!.value as object)).toEqual(['id', 'topic_id', 'message', 'published_at']);
    expect(got[0]!.value).toEqual(got[1]!.value);
    expect(got[0]!.ts).toBe(routed[0]!.timestamp);
    expect(ctx.collector.stats.recordsOut).toBe(3);
  });

  it('marks a critical notification at the end of its user-log value (for the edge; never a client field)', () => {
    const critical = { ...publish('t-crit', T0, null, 'server on fire'), delivery: { channels: [], critical: true, content: {}, template_id: null } };
    const plain = { ...publish('t-plain', T0), delivery: { channels: ['email' as const], critical: false, content: {}, template_id: null } };
    const records = chainRecords([critical, plain]);
    records.forEach((r) => (r.recipients = ['alice']));
    const [a, b] = op.process(records, batchContext(T0, undefined, { [USER_LOG]: 12 }));
    const text = (v: Uint8Array) => new TextDecoder().decode(v);
    expect(text(a!.routed!.value)).toBe(`${JSON.stringify({ id: critical.id, topic_id: 't-crit', message: 'server on fire', published_at: critical.published_at }).slice(0, -1)}${CRITICAL_MARK}`);
    expect(text(b!.routed!.value)).toBe(JSON.stringify({ id: plain.id, topic_id: 't-plain', message: 'hello', published_at: plain.published_at }));
  });

  it('drops records without recipients and writes no buffer for an empty batch', () => {
    const ctx = batchContext(T0);
    expect(op.process(joined([[]]), ctx)).toEqual([]);
    sink.write([], ctx);
    expect(ctx.collector.outputs).toEqual([]);
  });

  it('fails the batch when the task has no partition count for the user log', () => {
    expect(() => op.process(joined([['a']]), batchContext(T0, undefined, {}))).toThrowError(expect.objectContaining({ code: 'HERALD_OPERATOR_FAILED' }));
  });

  it('accepts only key user_id', () => {
    expect(() => new UserRepartitionOperator({ key: 'topic_id' })).toThrowError(expect.objectContaining({ code: 'HERALD_TOPOLOGY_INVALID' }));
  });
});
