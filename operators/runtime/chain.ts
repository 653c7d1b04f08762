/**
 * A stage's operator chain on one worker thread: built once from the compiled stage (registry
 * lookups, `init`), then run per task: decode → operators in topology order → sinks.
 */
import { performance } from 'node:perf_hooks';
import type { CompiledOperator, CompiledStage } from '../../topology/types.ts';
import { operatorRegistration, sinkRegistration } from '../registry.ts';
import type { OperatorTask, OperatorTaskResult } from '../task.ts';
import type { BatchCollector, BatchContext, Operator, OperatorStores, Sink } from '../types.ts';
import { decodePublishRecords } from './decode-publish-record.ts';

/** A built chain of one stage. */
export interface Chain {
  readonly stage: CompiledStage;
  /** Identity of the stage's nodes and options: a changed stage gets a new chain. */
  readonly fingerprint: string;
  readonly operators: readonly { node: CompiledOperator; operator: Operator }[];
  readonly sinks: readonly Sink[];
}

/** Identity of a stage's operators and sinks (names, types, options). */
export function stageFingerprint(stage: CompiledStage): string {
  return JSON.stringify([stage.name, stage.operators, stage.sinks]);
}

/**
 * Builds and initialises the chain of `stage`.
 * @throws HeraldError HERALD_OPERATOR_UNKNOWN for an unregistered operator or sink type,
 *   HERALD_TOPOLOGY_INVALID for bad options, or what an `init` throws
 */
export async function buildChain(stage: CompiledStage, stores: OperatorStores): Promise<Chain> {
  const operators: { node: CompiledOperator; operator: Operator }[] = [];
  for (const node of stage.operators) {
    const operator = operatorRegistration(node.type).create(node.options);
    await operator.init({ stage, node, stores });
    operators.push({ node, operator });
  }
  const sinks: Sink[] = [];
  for (const node of stage.sinks) {
    const sink = sinkRegistration(node.type).create(node.options);
    await sink.init({ stage, node });
    sinks.push(sink);
  }
  return { stage, fingerprint: stageFingerprint(stage), operators, sinks };
}

/** Closes every operator and sink of a chain (stores stay open: the worker owns them). */
export async function closeChain(chain: Chain): Promise<void> {
  for (const { operator } of chain.operators) await operator.close();
  for (const sink of chain.sinks) await sink.close();
}

/**
 * Runs one task through a chain.
 * @returns outputs (one buffer per log), dead letters, confirmations and stats
 * @throws what an operator or sink throws (other than per-record DeadLetterRecord)
 */
export async function runChain(chain: Chain, task: OperatorTask): Promise<OperatorTaskResult> {
  const started = performance.now();
  const collector: BatchCollector = {
    deadLetters: [],
    confirmations: [],
    outputs: [],
    stats: { recordsIn: 0, recordsOut: 0, duplicates: 0, bloomPositives: 0, bloomFalsePositives: 0, workerMs: 0 },
  };
  let batch = decodePublishRecords(task.records, collector);
  const context: BatchContext = { partition: task.partition, nowMs: task.nowMs, state: undefined, partitionCounts: task.partitionCounts, collector };
  for (const { node, operator } of chain.operators) {
    if (batch.length === 0) break;
    context.state = task.state[node.name];
    batch = await operator.process(batch, context);
  }
  context.state = undefined;
  for (const sink of chain.sinks) await sink.write(batch, context);
  collector.stats.workerMs = performance.now() - started;
  return collector;
}
