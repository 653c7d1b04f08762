/** Builders shared by the operator tests: a fanout stage, publish records, batch contexts. */
import type { PublishRecord } from '../../../core/types.ts';
import { RecordCursor, RecordsEncoder, type EncodedRecords } from '../../../log/record-codec.ts';
import type { OperatorTask, OperatorTaskResult, OperatorTaskStats } from '../../../operators/task.ts';
import type { BatchCollector, BatchContext, ChainRecord } from '../../../operators/types.ts';
import type { CompiledStage } from '../../../topology/types.ts';

export const USER_LOG = 'herald.user';

/** The fanout stage of the default topology (options as the compiler fills them in). */
export function fanoutStage(overrides: Partial<CompiledStage> = {}, dedupOptions: Record<string, unknown> = {}): CompiledStage {
  return {
    name: 'fanout',
    consumerGroup: 'herald.fanout',
    role: 'job',
    source: { name: 'publishes', log: 'herald.publish', partitions: 4 },
    operators: [
      { name: 'subscribers', type: 'subscription-join', options: {} },
      { name: 'dedup', type: 'bloom-dedup', options: { key: 'idempotency_key', window_ms: 600_000, windows: 6, expected_keys_per_window: 10_000, false_positive_rate: 0.001, ...dedupOptions } },
      { name: 'by-user', type: 'user-repartition', options: { key: 'user_id' } },
    ],
    sinks: [{ name: 'user-log', type: 'routing', log: USER_LOG, options: {} }],
    errorPolicy: 'dead-letter',
    deadLetterLog: 'herald.dlq',
    maxBatchRecords: 1000,
    ...overrides,
  };
}

let seq = 0;
/** A UUIDv7-shaped id whose timestamp is `ms`. */
export function idAt(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  const rnd = (seq++).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${rnd}`;
}

/** A publish record published at `ms`. */
export function publish(topicId: string, ms: number, idempotencyKey: string | null = null, message: PublishRecord['message'] = 'hello'): PublishRecord {
  return { id: idAt(ms), topic_id: topicId, message, published_at: new Date(ms).toISOString(), idempotency_key: idempotencyKey };
}

/** A record-codec batch of publish records (offsets 0..n-1, or raw string values as given). */
export function encodeBatch(values: (PublishRecord | string)[], firstOffset = 0): EncodedRecords {
  const enc = new RecordsEncoder(1024);
  values.forEach((v, i) => {
    const key = typeof v === 'string' ? null : v.topic_id;
    enc.add(key, typeof v === 'string' ? v : JSON.stringify(v), 0, 1_000 + i, firstOffset + i);
  });
  return enc.finish();
}

/** In-chain records of publish records (as the runtime's decoder makes them). */
export function chainRecords(values: PublishRecord[]): ChainRecord[] {
  return values.map((value, i) => ({ offset: i, timestamp: 1_000 + i, value, publishedAtMs: Date.parse(value.published_at), bucket: null, paged: false, recipients: null, routed: null }));
}

export function emptyStats(): OperatorTaskStats {
  return { recordsIn: 0, recordsOut: 0, duplicates: 0, bloomPositives: 0, bloomFalsePositives: 0, workerMs: 0 };
}

export function collector(): BatchCollector {
  return { deadLetters: [], confirmations: [], outputs: [], stats: emptyStats() };
}

/** A batch context for partition 0 at `nowMs`. */
export function batchContext(nowMs: number, state?: SharedArrayBuffer, partitionCounts: Record<string, number> = { [USER_LOG]: 12 }): BatchContext {
  return { partition: 0, nowMs, state, partitionCounts, collector: collector() };
}

/** One record a chain wrote to a log. */
export interface LogOutput {
  key: string | null;
  value: string;
  partition: number;
}

/** The records a chain run wrote to `log`, in order. */
export function outputsOf(result: OperatorTaskResult, log: string): LogOutput[] {
  const out: LogOutput[] = [];
  for (const o of result.outputs) {
    if (o.log !== log) continue;
    const c = new RecordCursor(o.records);
    while (c.next()) out.push({ key: c.keyString(), value: c.valueString(), partition: c.partition });
  }
  return out;
}

/** An operator task of `stage` over `records` (stores are in memory, so their specs are placeholders). */
export function taskOf(stage: CompiledStage, records: EncodedRecords, o: { partition?: number; state?: Record<string, SharedArrayBuffer>; nowMs: number; partitionCounts: Record<string, number> }): OperatorTask {
  return {
    stage,
    partition: o.partition ?? 0,
    records,
    state: o.state ?? {},
    stores: { subscriptions: { kind: 'sqlite', path: '' }, dedup: { kind: 'sqlite', path: '' } },
    nowMs: o.nowMs,
    partitionCounts: o.partitionCounts,
  };
}
