/**
 * Public types of the embedded (on-disk, in-process) log transport.
 */
import type { LogTransport } from '../types.ts';

/** How appended bytes are made durable. */
export type FsyncPolicy = 'never' | 'batch';

/** Partition assignment strategy of the in-process group coordinator. */
export type AssignmentStrategy = 'range' | 'round-robin';

/** Options of {@link createEmbeddedTransport}; defaults in `EMBEDDED_DEFAULTS` (options.ts). */
export interface EmbeddedTransportOptions {
  /** Root data directory; the log lives under `<dataDir>/log/`. Created when missing. */
  dataDir: string;
  /** Size in bytes at which the active segment file rolls. Default 64 MiB. */
  segmentBytes?: number;
  /** Default time-based retention of log topics, ms (a topic's own `retentionMs` wins). Default 7 days. */
  retentionMs?: number;
  /** How often expired segments are looked for, ms (also on every roll). Default 5 minutes. */
  retentionCheckMs?: number;
  /**
   * 'never' (default): every append is one `write(2)` into the OS page cache, which survives a
   * crash of the process (kill -9) but not of the machine. 'batch': `fdatasync` after every
   * group-commit flush before `send` resolves (survives power loss; costs a disk flush per batch).
   */
  fsync?: FsyncPolicy;
  /** Committed offsets are persisted at most this often per group, ms. Default 5. */
  commitFlushMs?: number;
  /** First retry delay after a handler rejects, ms (doubles per attempt, with jitter). Default 100. */
  retryBackoffMs?: number;
  /** Cap of the retry delay, ms. Default 30 000. */
  retryBackoffMaxMs?: number;
  /** How partitions are spread over the members of a consumer group. Default 'range'. */
  assignment?: AssignmentStrategy;
}

/** Options after validation, every field set. */
export type ResolvedEmbeddedOptions = Required<EmbeddedTransportOptions>;

/** The embedded transport: a {@link LogTransport} plus embedded-only operations. */
export interface EmbeddedLogTransport extends LogTransport {
  readonly kind: 'embedded';
  /** Resolved options (read-only view). */
  readonly options: Readonly<ResolvedEmbeddedOptions>;
  /**
   * Deletes every segment, except the active one of each partition, whose newest record is older
   * than its topic's retention. Runs by itself every `retentionCheckMs` and on every roll.
   * @param now the current time, ms since the epoch (default `Date.now()`)
   * @returns number of segment files deleted
   */
  deleteExpiredSegments(now?: number): number;
  /**
   * First and next offsets of a partition (`logStartOffset`, `endOffset`).
   * Throws HERALD_LOG_TOPIC_UNKNOWN.
   */
  offsets(topic: string, partition: number): { logStartOffset: number; endOffset: number };
}
