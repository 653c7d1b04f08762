/**
 * Builds a stage's per-partition operator state on partition assignment (main thread): for every
 * operator whose type keeps state, a new SharedArrayBuffer refilled from the stores (Bloom
 * windows from DedupStore.keysSince). The result is `OperatorTask.state` for that partition.
 */
import type { DedupStore } from '../../stores/types.ts';
import type { CompiledStage } from '../../topology/types.ts';
import { operatorRegistration } from '../registry.ts';

/**
 * @param nowMs now, ms since the epoch
 * @returns state buffers by operator node name (empty when no operator keeps state)
 * @throws HeraldError HERALD_OPERATOR_UNKNOWN for an unregistered type; the DedupStore's errors
 */
export async function createPartitionState(stage: CompiledStage, partition: number, dedup: DedupStore, nowMs: number = Date.now()): Promise<Record<string, SharedArrayBuffer>> {
  const state: Record<string, SharedArrayBuffer> = {};
  for (const node of stage.operators) {
    const factory = operatorRegistration(node.type).partitionState;
    if (factory === undefined) continue;
    const sab = factory.create(node.options);
    await factory.restore(sab, node.options, { dedup, partition, nowMs });
    state[node.name] = sab;
  }
  return state;
}
