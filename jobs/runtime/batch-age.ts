/**
 * Time-based consumer lag: how old the oldest record of each handed batch is (now − its append
 * timestamp), per stage. Offsets say how far behind a stage is; this says how late.
 */
import { histogram } from '../../core/metrics.ts';
import { RecordCursor } from '../../log/record-codec.ts';
import type { FetchedBatch } from '../../log/types.ts';

const age = histogram('herald_stage_record_age_seconds', 'Age of the oldest record of a batch when a stage starts it (append → processing).', ['stage'], [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
]);

/** Observes the age of the first (oldest) record of `batch` for `stage`. */
export function observeBatchAge(stage: string, batch: FetchedBatch, nowMs = Date.now()): void {
  const cursor = new RecordCursor(batch.encoded);
  if (cursor.next()) age.observe({ stage }, Math.max(0, nowMs - cursor.timestamp) / 1000);
}
