/**
 * The zod schema of a topology file (version 1): shapes and value ranges only. Cross-references
 * (inputs, logs, stages, catalogue types, cycles) are checked by validate.ts, which needs the
 * whole file. Objects are strict: an unknown key is an error, never ignored.
 */
import { z } from 'zod';
import { TOPOLOGY_DEFAULTS } from './defaults.ts';

/** Names of nodes and stages: letters, digits, `.`, `_`, `-`; 1-128 characters. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Log topic and consumer group names, as Kafka allows them: letters, digits, `.`, `_`, `-`; 1-249 characters. */
export const LOG_NAME_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;
/** Record field names used as partitioning keys (snake_case). */
export const FIELD_PATTERN = /^[a-z_][a-z0-9_]*$/;

const name = z.string().regex(NAME_PATTERN, { error: 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit' });
const logName = z.string().regex(LOG_NAME_PATTERN, { error: 'must be 1-249 letters, digits, ".", "_" or "-" (a Kafka topic name)' });
const positiveInt = z.int().min(1);

/** One log topic (a Kafka topic, or an embedded log). */
export const logSchema = z.strictObject({
  name: logName,
  /** Number of partitions, ≥ 1. */
  partitions: positiveInt.max(10_000),
  /** Record field whose value is the partitioning key (e.g. topic_id, user_id); omit for none. */
  key: z.string().regex(FIELD_PATTERN, { error: 'must be a snake_case record field name, e.g. user_id' }).nullable().default(null),
  /** Time-based retention, ms. */
  retention_ms: positiveInt.default(TOPOLOGY_DEFAULTS.log.retentionMs),
  description: z.string().optional(),
});

/** Per-stage settings; a stage starts at the source node whose `stage` names it. */
export const stageSchema = z.strictObject({
  name,
  role: z.enum(['job', 'edge', 'channel']).default(TOPOLOGY_DEFAULTS.stage.role),
  /** Defaults to `herald.<stage name>`. */
  consumer_group: logName.optional(),
  error_policy: z.enum(['continue', 'fail', 'dead-letter']).default(TOPOLOGY_DEFAULTS.stage.errorPolicy),
  /** DLQ log topic: required by `error_policy: dead-letter`, also receives undecodable records. */
  dead_letter_log: logName.optional(),
  max_batch_records: positiveInt.max(1_000_000).default(TOPOLOGY_DEFAULTS.stage.maxBatchRecords),
  description: z.string().optional(),
});

/** The kinds of node (Kafka Streams vocabulary). */
export const NODE_KINDS = ['source', 'operator', 'repartition', 'sink'] as const;

/**
 * One node. Which fields a kind needs is checked by validate.ts (one clear message per missing
 * or misplaced field):
 * - source: `log`, `stage`; no `input`, `type`, `options`;
 * - operator: `type`, `input`, optional `options`;
 * - repartition: `type` (a repartitioning operator), `input`, `log` (the log it writes), `options`;
 * - sink: `type`, `input`, `log` when the sink type writes a log, `options`.
 */
export const nodeSchema = z.strictObject({
  name,
  kind: z.enum(NODE_KINDS),
  type: z.string().min(1).optional(),
  /** The upstream node (one, in version 1; a one-element list is accepted). */
  input: z.union([name, z.array(name).min(1)]).optional(),
  log: logName.optional(),
  stage: name.optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  description: z.string().optional(),
});

/** A whole topology file. */
export const topologyFileSchema = z.strictObject({
  version: z.literal(1),
  name,
  description: z.string().optional(),
  logs: z.array(logSchema).min(1),
  stages: z.array(stageSchema).min(1),
  nodes: z.array(nodeSchema).min(1),
});

/** A topology file after schema validation (defaults filled in). */
export type TopologyFile = z.output<typeof topologyFileSchema>;
/** One log entry of {@link TopologyFile}. */
export type LogSpec = z.output<typeof logSchema>;
/** One stage entry of {@link TopologyFile}. */
export type StageSpec = z.output<typeof stageSchema>;
/** One node entry of {@link TopologyFile}. */
export type NodeSpec = z.output<typeof nodeSchema>;
