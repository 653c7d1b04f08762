/**
 * Prometheus metrics of the embedded log (base units, `herald_log_` prefix).
 */
import { counter, histogram } from '../../core/metrics.ts';

/** Records appended, by log topic. */
export const appendedRecords = counter('herald_log_appended_records_total', 'Records appended to the embedded log.', ['topic']);
/** Bytes of record framing appended, by log topic. */
export const appendedBytes = counter('herald_log_appended_bytes_total', 'Bytes appended to the embedded log (record framing included).', ['topic']);
/** Records in one group-commit flush (all partitions, all concurrent send calls). */
export const flushRecords = histogram('herald_log_flush_records', 'Records written by one group-commit flush of the embedded log.', [], [1, 10, 100, 1_000, 10_000, 100_000]);
/** Records handed to batch handlers and committed, by log topic and consumer group. */
export const consumedRecords = counter('herald_log_consumed_records_total', 'Records handled and committed by embedded-log consumers.', ['topic', 'group']);
/** Batches whose handler rejected and that will be handed again after a backoff. */
export const batchRetries = counter('herald_log_batch_retries_total', 'Batches handed again after their handler rejected.', ['topic', 'group']);
/** Segment files deleted by retention. */
export const segmentsDeleted = counter('herald_log_segments_deleted_total', 'Embedded-log segment files deleted by time retention.', ['topic']);
