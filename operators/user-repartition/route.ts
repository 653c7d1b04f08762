/**
 * Routing of one notification to its recipients' user-log partitions: the Notification JSON is
 * encoded ONCE (the value is byte-identical for every recipient) and each recipient's partition
 * is Kafka's default keyed partition, `partitionFor(user_id, partitions)` (murmur2), so the
 * embedded log and Apache Kafka place a user on the same partition (cached per user: {@link userKey}).
 */
import { HeraldError } from '../../core/errors.ts';
import { CRITICAL_MARK, type Notification } from '../../core/types.ts';
import { BUILTIN_SINKS } from '../../topology/builtin-types.ts';
import type { CompiledStage } from '../../topology/types.ts';
import type { ChainRecord } from '../types.ts';
import { userKey } from './user-key-cache.ts';

const textEncoder = new TextEncoder();

/**
 * UTF-8 JSON `{"id","topic_id","message","published_at"}` of a record's notification (no
 * idempotency_key), followed by {@link CRITICAL_MARK} when the publish or its topic is critical:
 * the edge reads it (in-app mutes do not apply) and strips it before streaming.
 */
export function encodeNotification(record: ChainRecord): Uint8Array {
  const v = record.value;
  const notification: Notification = { id: v.id, topic_id: v.topic_id, message: v.message, published_at: v.published_at };
  const json = JSON.stringify(notification);
  return textEncoder.encode(v.delivery?.critical === true ? `${json.slice(0, -1)}${CRITICAL_MARK}` : json);
}

/**
 * The log a stage repartitions into: the log of its first sink that writes one, other than a
 * sink that writes a log of its own (`fanout-pages`, `channel-routing`: catalogue `ownLog`).
 * @throws HeraldError HERALD_OPERATOR_FAILED when no sink of the stage writes a log
 */
export function repartitionLogOf(stage: CompiledStage): string {
  for (const sink of stage.sinks) if (sink.log !== null && BUILTIN_SINKS[sink.type]?.ownLog !== true) return sink.log;
  throw new HeraldError('HERALD_OPERATOR_FAILED', `stage ${stage.name}: user-repartition needs a sink that writes a log`);
}

/**
 * Partition count of `log` for this batch.
 * @throws HeraldError HERALD_OPERATOR_FAILED when the runtime did not pass a positive count
 */
export function partitionCountOf(partitionCounts: Record<string, number>, log: string): number {
  const n = partitionCounts[log];
  if (n === undefined || !Number.isInteger(n) || n < 1) {
    throw new HeraldError('HERALD_OPERATOR_FAILED', `no partition count for log ${log} (task.partitionCounts)`);
  }
  return n;
}

/**
 * Sets `record.routed`: the shared value bytes, and per recipient its key bytes and partition.
 * @param partitions partition count of `log`, ≥ 1
 */
export function routeRecord(record: ChainRecord, log: string, partitions: number): void {
  const recipients = record.recipients ?? [];
  const out = new Int32Array(recipients.length);
  const keys: Uint8Array[] = new Array(recipients.length);
  for (let i = 0; i < recipients.length; i++) {
    const key = userKey(recipients[i]!, partitions);
    keys[i] = key.bytes;
    out[i] = key.partition;
  }
  record.routed = { log, value: encodeNotification(record), partitions: out, keys };
}
