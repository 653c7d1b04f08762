/**
 * The compiled form of a topology file: what the job runtime (jobs/) executes.
 * topology/compiler.ts produces it; nothing in it refers to a transport or a store.
 */

/** What a stage does when an operator or sink fails on a record (Kafka Streams' exception handlers). */
export type ErrorPolicy = 'continue' | 'fail' | 'dead-letter';

/** A log topic declared by the topology. */
export interface CompiledLog {
  name: string;
  partitions: number;
  /** The record field whose value is the partitioning key (e.g. topic_id, user_id), if any. */
  key: string | null;
  /** Time-based retention, ms. */
  retentionMs: number;
}

/** One operator instance in a stage, in execution order. */
export interface CompiledOperator {
  /** The node's name in the topology file (unique). */
  name: string;
  /** Registered operator type, e.g. `subscription-join`, `bloom-dedup`, `user-repartition`. */
  type: string;
  /** Options after schema validation and defaults. */
  options: Record<string, unknown>;
}

/** A sink of a stage: where its output goes. */
export interface CompiledSink {
  name: string;
  /** Registered sink type, e.g. `routing` (writes log topics), `edge-delivery` (inbox + SSE), `channel-delivery` (email, SMS, push). */
  type: string;
  /** Log topic written by this sink, if any. */
  log: string | null;
  options: Record<string, unknown>;
}

/** One stage: a consumer group over one source log topic, its operators and sinks. */
export interface CompiledStage {
  name: string;
  /** Consumer group id of the stage's members. */
  consumerGroup: string;
  /**
   * Which process role runs the stage: `job` (npx herald job), `edge` (npx herald edge) or
   * `channel` (npx herald channel email|sms|push: one channel's workers, with a `channel-delivery` sink).
   */
  role: 'job' | 'edge' | 'channel';
  source: { name: string; log: string; partitions: number };
  operators: CompiledOperator[];
  sinks: CompiledSink[];
  errorPolicy: ErrorPolicy;
  /** DLQ log topic used by the `dead-letter` policy (and for undecodable records). */
  deadLetterLog: string | null;
  /** Max records per batch handed to the operators. */
  maxBatchRecords: number;
}

/** A validated, compiled topology. */
export interface CompiledTopology {
  name: string;
  version: number;
  /** Absolute path of the file it came from, or null. */
  file: string | null;
  logs: CompiledLog[];
  stages: CompiledStage[];
}
