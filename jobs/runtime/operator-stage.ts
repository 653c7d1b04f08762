/**
 * Runs one operator stage (e.g. `fanout`) as a member of its consumer group.
 *
 * Per batch of one source partition (the main thread owns the consumer, the producer and the
 * offsets; the operators run on a worker thread):
 *  1. hand the batch as one transferable buffer to the operator pool (one task, no per-record
 *     messages), with the partition's shared operator state (Bloom windows);
 *  2. append the task's outputs to their log topics, undecodable records to the DLQ and (kafka
 *     profile) the new dedup confirmations to the changelog, all through the batch's output;
 *  3. once those are committed, record the confirmations in the local confirm store;
 *  4. the consumer commits the source offsets.
 * Kafka profile (exactly-once): 2 and the offsets are one Kafka transaction, so a crash anywhere
 * leaves either everything or nothing; 3 follows the commit and is restored from the changelog.
 * Embedded profile (at-least-once): a crash before 3 replays the batch and the outputs may be
 * appended twice (the edge stage's idempotent inbox drops the copies); after 3 the replayed
 * records are confirmed, so the dedup operator drops them.
 */
import type { Logger } from '../../core/logger.ts';
import { counter, gauge, histogram } from '../../core/metrics.ts';
import type { LogConsumer, LogTransport, TopicPartition } from '../../log/types.ts';
import type { OperatorTask, OperatorTaskResult, StoreSpecs } from '../../operators/task.ts';
import type { DedupStore } from '../../stores/types.ts';
import type { CompiledStage } from '../../topology/types.ts';
import { failOnRejected, settleRejected } from './dead-letters.ts';
import { encodeConfirmations, restoreConfirmations } from './dedup-changelog.ts';
import { observeBatch } from './stage-metrics.ts';

const recordsIn = counter('herald_stage_records_in_total', 'Records read by a stage.', ['stage']);
const recordsOut = counter('herald_stage_records_out_total', 'Records written by a stage.', ['stage']);
const duplicates = counter('herald_dedup_duplicates_total', 'Records dropped as duplicates by the dedup operator.', ['stage']);
const bloomPositives = counter('herald_dedup_bloom_positives_total', 'Bloom positives checked against the exact store.', ['stage']);
const falsePositives = counter('herald_dedup_bloom_false_positives_total', 'Bloom positives the exact store did not confirm (kept).', ['stage']);
const stateBytes = gauge('herald_operator_state_bytes', 'Shared per-partition operator state held by this member (Bloom windows), bytes.', ['stage', 'operator']);
const batchSeconds = histogram('herald_stage_batch_duration_seconds', 'Time from handing a batch to the operators to its commit.', ['stage'], [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
]);

/** Runs operator tasks on worker threads. */
export interface OperatorRunner {
  run(task: OperatorTask): Promise<OperatorTaskResult>;
}

/** Dependencies of {@link startOperatorStage}. */
export interface OperatorStageDeps {
  stage: CompiledStage;
  transport: LogTransport;
  pool: OperatorRunner;
  dedup: DedupStore;
  storeSpecs: StoreSpecs;
  logger: Logger;
  /**
   * The dedup changelog log topic (kafka profile): confirmations are appended to it in the batch's
   * transaction and restored from it on assignment. Absent on the embedded profile, whose confirm
   * store is the one durable copy.
   */
  changelog?: string;
  /**
   * Builds (and restores) the shared operator state of one source partition, by operator node
   * name. Called on assignment, before any batch of the partition.
   */
  createPartitionState: (stage: CompiledStage, partition: number) => Promise<Record<string, SharedArrayBuffer>>;
}

/** A running operator stage member. */
export interface RunningStage {
  readonly stage: CompiledStage;
  readonly consumer: LogConsumer;
  close(): Promise<void>;
}

/** Joins the stage's consumer group and processes batches until closed. */
export async function startOperatorStage(deps: OperatorStageDeps): Promise<RunningStage> {
  const { stage, transport, pool, dedup, logger } = deps;
  const log = logger.child({ stage: stage.name });
  const state = new Map<number, Record<string, SharedArrayBuffer>>();
  const partitionCounts: Record<string, number> = {};
  for (const sink of stage.sinks) if (sink.log) partitionCounts[sink.log] = transport.partitionCount(sink.log);
  if (stage.deadLetterLog) partitionCounts[stage.deadLetterLog] = transport.partitionCount(stage.deadLetterLog);
  const labels = { stage: stage.name };
  const reportStateBytes = () => {
    const bytes = new Map<string, number>(stage.operators.map((op) => [op.name, 0]));
    for (const byOperator of state.values()) for (const [name, sab] of Object.entries(byOperator)) bytes.set(name, (bytes.get(name) ?? 0) + sab.byteLength);
    for (const [operator, n] of bytes) stateBytes.set({ stage: stage.name, operator }, n);
  };

  const consumer = transport.createConsumer({
    groupId: stage.consumerGroup,
    topics: [stage.source.log],
    maxBatchRecords: stage.maxBatchRecords,
    exactlyOnce: true,
    onAssigned: async (tps: TopicPartition[]) => {
      for (const tp of tps) {
        if (deps.changelog) {
          const restored = await restoreConfirmations(transport, deps.changelog, tp.partition, dedup);
          log.info({ partition: tp.partition, restored, changelog: deps.changelog }, 'dedup confirmations restored');
        }
        state.set(tp.partition, await deps.createPartitionState(stage, tp.partition));
      }
      reportStateBytes();
      log.info({ partitions: tps.map((t) => t.partition) }, 'partitions assigned');
    },
    onRevoked: (tps: TopicPartition[]) => {
      for (const tp of tps) state.delete(tp.partition);
      reportStateBytes();
      log.info({ partitions: tps.map((t) => t.partition) }, 'partitions revoked');
    },
  });

  await consumer.run(async (batch, output) => {
    const started = process.hrtime.bigint();
    observeBatch(stage.name, batch);
    const partitionState = state.get(batch.partition) ?? (await deps.createPartitionState(stage, batch.partition));
    state.set(batch.partition, partitionState);
    const nowMs = Date.now();
    const result = await pool.run({
      stage,
      partition: batch.partition,
      // A copy is transferred: the consumer may hand this batch again if a later step fails.
      records: batch.encoded.slice(),
      state: partitionState,
      stores: deps.storeSpecs,
      nowMs,
      partitionCounts,
    });
    failOnRejected(stage, result.deadLetters);
    for (const out of result.outputs) await output.appendEncoded(out.log, out.records);
    await settleRejected(output, stage, batch.partition, result.deadLetters, log);
    if (result.confirmations.length > 0) {
      const confirmations = result.confirmations.map((key) => ({ key, partition: batch.partition, at: nowMs }));
      if (deps.changelog) await output.append(deps.changelog, encodeConfirmations(confirmations));
      output.onCommitted(() => dedup.confirm(confirmations));
    }
    const s = result.stats;
    recordsIn.inc(labels, s.recordsIn);
    recordsOut.inc(labels, s.recordsOut);
    duplicates.inc(labels, s.duplicates);
    bloomPositives.inc(labels, s.bloomPositives);
    falsePositives.inc(labels, s.bloomFalsePositives);
    batchSeconds.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  });

  return {
    stage,
    consumer,
    async close() {
      await consumer.close();
    },
  };
}
