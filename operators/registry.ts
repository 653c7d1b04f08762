/**
 * The operator and sink registry: type name (as in the topology file) → how to build it, so the
 * runtime builds a stage's chain from `CompiledStage.operators` and `.sinks`. Operators that keep
 * per-partition state (Bloom windows) also say how to create and restore it on assignment.
 */
import { HeraldError } from '../core/errors.ts';
import type { DedupStore } from '../stores/types.ts';
import { BloomDedupOperator } from './bloom-dedup/bloom-dedup.ts';
import { parseBloomDedupOptions } from './bloom-dedup/options.ts';
import { bloomRestoreSinceMs, createBloomState, restoreBloomState } from './bloom-dedup/state.ts';
import { SubscriptionJoinOperator } from './subscription-join/subscription-join.ts';
import { UserRepartitionOperator } from './user-repartition/user-repartition.ts';
import { RoutingSink } from '../sinks/routing/routing-sink.ts';
import { FANOUT_PAGES_SINK, FanoutPagesSink } from '../sinks/fanout-pages/fanout-pages-sink.ts';
import { CHANNEL_ROUTING_SINK, ChannelRoutingSink } from '../sinks/channel-routing/index.ts';
import type { Operator, Sink } from './types.ts';

/** What restoring a partition's state may read (interfaces only). */
export interface PartitionStateSource {
  dedup: DedupStore;
  /** Source partition being assigned. */
  partition: number;
  /** Now, ms since the epoch. */
  nowMs: number;
}

/** Per-partition shared state of an operator type. */
export interface PartitionStateFactory {
  /** A new empty state buffer for one partition. @throws HeraldError HERALD_TOPOLOGY_INVALID / HERALD_CONFIG_INVALID for bad options */
  create(options: Record<string, unknown>): SharedArrayBuffer;
  /** Refills `sab` from the stores (e.g. confirmed keys of the dedup horizon). Store errors as they are. */
  restore(sab: SharedArrayBuffer, options: Record<string, unknown>, source: PartitionStateSource): Promise<void>;
}

/** How to build one operator type. */
export interface OperatorRegistration {
  /** A new operator; `init` is called by the runtime. @throws HeraldError HERALD_TOPOLOGY_INVALID for bad options */
  create(options: Record<string, unknown>): Operator;
  partitionState?: PartitionStateFactory;
}

/** How to build one sink type that runs on the operator workers. */
export interface SinkRegistration {
  create(options: Record<string, unknown>): Sink;
}

/** Operator types by name. */
export const OPERATORS: ReadonlyMap<string, OperatorRegistration> = new Map<string, OperatorRegistration>([
  ['subscription-join', { create: (options) => new SubscriptionJoinOperator(options) }],
  [
    'bloom-dedup',
    {
      create: (options) => new BloomDedupOperator(options),
      partitionState: {
        create: (options) => createBloomState(parseBloomDedupOptions(options)),
        async restore(sab, options, { dedup, partition, nowMs }) {
          const parsed = parseBloomDedupOptions(options);
          const keys = await dedup.keysSince(partition, bloomRestoreSinceMs(parsed, nowMs));
          restoreBloomState(sab, parsed, keys, nowMs);
        },
      },
    },
  ],
  ['user-repartition', { create: (options) => new UserRepartitionOperator(options) }],
]);

/** Sink types that run on the operator workers, by name. */
export const SINKS: ReadonlyMap<string, SinkRegistration> = new Map<string, SinkRegistration>([
  ['routing', { create: () => new RoutingSink() }],
  [FANOUT_PAGES_SINK, { create: (options) => new FanoutPagesSink(options) }],
  [CHANNEL_ROUTING_SINK, { create: (options) => new ChannelRoutingSink(options) }],
]);

/**
 * The registration of an operator type.
 * @throws HeraldError HERALD_OPERATOR_UNKNOWN when no operator of that type is registered
 */
export function operatorRegistration(type: string): OperatorRegistration {
  const reg = OPERATORS.get(type);
  if (reg === undefined) throw new HeraldError('HERALD_OPERATOR_UNKNOWN', `unknown operator type "${type}" (known: ${[...OPERATORS.keys()].join(', ')})`);
  return reg;
}

/**
 * The registration of a worker sink type.
 * @throws HeraldError HERALD_OPERATOR_UNKNOWN when no sink of that type runs on the workers
 */
export function sinkRegistration(type: string): SinkRegistration {
  const reg = SINKS.get(type);
  if (reg === undefined) throw new HeraldError('HERALD_OPERATOR_UNKNOWN', `unknown sink type "${type}" for operator workers (known: ${[...SINKS.keys()].join(', ')})`);
  return reg;
}
