/**
 * Per-batch metrics of a stage member: consumer lag in records (per partition, as of the batch)
 * and in time (how old the oldest record of each handed batch is, now − its append timestamp).
 * Offsets say how far behind a stage is; age says how late.
 */
import { gauge, histogram } from '../../core/metrics.ts';
import { RecordCursor } from '../../log/record-codec.ts';
import type { FetchedBatch } from '../../log/types.ts';

const age = histogram('herald_stage_record_age_seconds', 'Age of the oldest record of a batch when a stage starts it (append → processing).', ['stage'], [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
]);

const lag = gauge('herald_consumer_lag_records', 'Records of a partition not yet processed by the stage (high watermark − next offset), as of its last batch.', ['stage', 'partition']);

/** Observes the lag of `batch`'s partition and the age of its first (oldest) record, for `stage`. */
export function observeBatch(stage: string, batch: FetchedBatch, nowMs = Date.now()): void {
  lag.set({ stage, partition: String(batch.partition) }, Math.max(0, batch.highWatermark - batch.lastOffset - 1));
  const cursor = new RecordCursor(batch.encoded);
  if (cursor.next()) age.observe({ stage }, Math.max(0, nowMs - cursor.timestamp) / 1000);
}
