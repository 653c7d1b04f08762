/**
 * Defaults and validation of the embedded transport's options (validated once, at creation).
 */
import { z } from 'zod';
import { HeraldError } from '../../core/errors.ts';
import type { EmbeddedTransportOptions, ResolvedEmbeddedOptions } from './types.ts';

/** Default option values with their units. */
export const EMBEDDED_DEFAULTS = {
  segmentBytes: 64 * 1024 * 1024, // bytes: 64 MiB per segment file
  retentionMs: 7 * 24 * 60 * 60 * 1000, // ms: 7 days
  retentionCheckMs: 5 * 60 * 1000, // ms: 5 minutes
  fsync: 'never', // see FsyncPolicy: page cache survives kill -9; 'batch' also survives power loss
  commitFlushMs: 100, // ms: coalesce offset-file writes (a crash re-delivers at most ~100 ms of records; Kafka auto-commits every 5 s)
  retryBackoffMs: 100, // ms: first retry of a rejected batch
  retryBackoffMaxMs: 30_000, // ms: retry delay cap
  assignment: 'range',
} as const satisfies Omit<ResolvedEmbeddedOptions, 'dataDir'>;

/** Largest segment size: positions in a segment are kept as u32 and a read buffer is one Buffer. */
export const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024; // bytes: 1 GiB

const schema = z.strictObject({
  dataDir: z.string().min(1),
  segmentBytes: z.int().min(1024).max(MAX_SEGMENT_BYTES).optional(),
  retentionMs: z.int().min(1).optional(),
  retentionCheckMs: z.int().min(10).max(2 ** 31 - 1).optional(),
  fsync: z.enum(['never', 'batch']).optional(),
  commitFlushMs: z.int().min(0).max(60_000).optional(),
  retryBackoffMs: z.int().min(1).optional(),
  retryBackoffMaxMs: z.int().min(1).optional(),
  assignment: z.enum(['range', 'round-robin']).optional(),
});

/**
 * Validates options and fills in defaults.
 * @throws HeraldError HERALD_CONFIG_INVALID naming the path of each bad option (details: issues)
 */
export function resolveEmbeddedOptions(options: EmbeddedTransportOptions): ResolvedEmbeddedOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new HeraldError('HERALD_CONFIG_INVALID', `invalid embedded log options: ${text}`, { details: issues });
  }
  const o = parsed.data;
  const resolved: ResolvedEmbeddedOptions = {
    dataDir: o.dataDir,
    segmentBytes: o.segmentBytes ?? EMBEDDED_DEFAULTS.segmentBytes,
    retentionMs: o.retentionMs ?? EMBEDDED_DEFAULTS.retentionMs,
    retentionCheckMs: o.retentionCheckMs ?? EMBEDDED_DEFAULTS.retentionCheckMs,
    fsync: o.fsync ?? EMBEDDED_DEFAULTS.fsync,
    commitFlushMs: o.commitFlushMs ?? EMBEDDED_DEFAULTS.commitFlushMs,
    retryBackoffMs: o.retryBackoffMs ?? EMBEDDED_DEFAULTS.retryBackoffMs,
    retryBackoffMaxMs: o.retryBackoffMaxMs ?? EMBEDDED_DEFAULTS.retryBackoffMaxMs,
    assignment: o.assignment ?? EMBEDDED_DEFAULTS.assignment,
  };
  if (resolved.retryBackoffMaxMs < resolved.retryBackoffMs) {
    throw new HeraldError('HERALD_CONFIG_INVALID', 'invalid embedded log options: retryBackoffMaxMs: must be >= retryBackoffMs');
  }
  return resolved;
}
