/**
 * Runs the edge stage: this edge's member of the consumer group over the user log. Each batch
 * goes through the `edge-delivery` sink (inbox, then live SSE); undecodable records go to the
 * DLQ. The offset is committed after the inbox append resolved.
 */
import type { Logger } from '../../core/logger.ts';
import { counter } from '../../core/metrics.ts';
import type { LogConsumer, LogTransport } from '../../log/types.ts';
import { EdgeDeliverySink, type InboxWriter, type LiveDelivery, type PreferencesReader } from '../../sinks/edge-delivery/index.ts';
import type { CompiledStage } from '../../topology/types.ts';
import { failOnRejected, settleRejected } from './dead-letters.ts';
import { observeBatch } from './stage-metrics.ts';
import type { RunningStage } from './operator-stage.ts';

const recordsIn = counter('herald_stage_records_in_total', 'Records read by a stage.', ['stage']);

/** Dependencies of {@link startEdgeStage}. */
export interface EdgeStageDeps {
  stage: CompiledStage;
  transport: LogTransport;
  /** Store user-log batches in the inbox: partition p's batches go to writers[p % length]. */
  writers: InboxWriter[];
  live: LiveDelivery;
  /** The users' preferences (in-app mutes); absent: every notification is delivered. */
  preferencesOf?: PreferencesReader;
  logger: Logger;
  /** Called when user partitions are assigned to this edge, before their first batch. */
  onAssigned?: (partitions: number[]) => Promise<void> | void;
  /** Called when user partitions leave this edge, after their last batch. */
  onRevoked?: (partitions: number[]) => Promise<void> | void;
}

/** Joins the edge consumer group and delivers batches until closed. */
export async function startEdgeStage(deps: EdgeStageDeps): Promise<RunningStage> {
  const { stage, transport, logger } = deps;
  const log = logger.child({ stage: stage.name });
  const sink = new EdgeDeliverySink({ writers: deps.writers, live: deps.live, ...(deps.preferencesOf === undefined ? {} : { preferencesOf: deps.preferencesOf }) });
  const consumer: LogConsumer = transport.createConsumer({
    groupId: stage.consumerGroup,
    topics: [stage.source.log],
    maxBatchRecords: stage.maxBatchRecords,
    onAssigned: async (tps) => {
      const partitions = tps.map((t) => t.partition);
      await deps.onAssigned?.(partitions);
      log.info({ partitions }, 'user partitions assigned');
    },
    onRevoked: async (tps) => {
      const partitions = tps.map((t) => t.partition);
      await deps.onRevoked?.(partitions);
      log.info({ partitions }, 'user partitions revoked');
    },
  });
  await consumer.run(async (batch, output) => {
    recordsIn.inc({ stage: stage.name }, batch.count);
    observeBatch(stage.name, batch);
    const bad = await sink.write(batch);
    if (bad.length === 0) return;
    const letters = bad.map((b) => ({ ...b, code: 'HERALD_OPERATOR_RECORD_INVALID' }));
    failOnRejected(stage, letters);
    await settleRejected(output, stage, batch.partition, letters, log);
  });
  return {
    stage,
    consumer,
    async close() {
      await consumer.close();
    },
  };
}
