/**
 * `herald dlq replay <channel>`: sends channel jobs from the DLQ again, after the cause is fixed
 * (a provider down for longer than the retries last, a wrong sender setting, a template bug).
 *
 * The DLQ log of the channel's stages (herald.channel.dlq) is read from its earliest retained
 * record to its end at the time of the call (read_committed on Kafka), without a consumer group,
 * so a replay never moves anyone's offsets and can be repeated. Each letter holds the whole send
 * job (jobs/runtime/channel-stage.ts). A job is replayed when:
 * - it is of the asked channel, and its error code is one of `codes` (when given);
 * - its delivery status is `failed`, or not final any more because an earlier replay reopened it
 *   (a replay that stopped between reopening and appending is finished by the next one). Sends
 *   already `sent`, `gone` or `skipped` never go out again, and a status purged by retention
 *   (older than HERALD_RETENTION_DAYS) means the notification is too old to send;
 * - it is the first letter of its send key in this run (a job dead-lettered twice goes once).
 *
 * For each batch of letters: the statuses of the batch's keys are read in one call, the `failed`
 * ones are turned back into `retrying` (DeliveryStatusStore.reopen) and only then are the jobs
 * appended to the channel's retry log, as first attempts due now, keyed by user_id like every
 * retry. The provider's idempotency key of a replayed message (SMS `Idempotency-Key`, email
 * `Message-ID`, push `Topic`) is the send key plus `:replay:<DLQ partition>:<DLQ offset>`:
 * providers keep the answer of a key, refusals included, so the original key would fetch the
 * old refusal; the letter's position keeps the key the same when a replay is rerun. The order matters: the channel worker drops a job whose status is final, so a job
 * appended before its reopen could be dropped. The channel's normal stage sends them at the
 * provider's pace; a failing job ends in the DLQ again, with a new letter.
 */
import type { Logger } from '../core/logger.ts';
import { HeraldError } from '../core/errors.ts';
import type { ChannelName } from '../core/types.ts';
import type { FetchedBatch, LogTransport } from '../log/types.ts';
import type { SendJob } from '../sinks/channels/worker.ts';
import type { DeliveryStatusStore } from '../stores/types.ts';
import type { CompiledTopology } from '../topology/types.ts';
import { channelSinkOf } from './runtime/channel-stage.ts';

/** What to replay. */
export interface DlqReplayOptions {
  channel: ChannelName;
  /** Only letters with one of these error codes (e.g. RETRIES_EXHAUSTED, HTTP_401). Absent: every code. */
  codes?: readonly string[];
  /** Count what would be replayed; change nothing. */
  dryRun?: boolean;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
}

/** Counts of one replay (letters of the asked channel only). */
export interface DlqReplayReport {
  channel: ChannelName;
  /** The DLQ logs read. */
  logs: string[];
  /** The retry log the jobs were appended to. */
  retryLog: string;
  dryRun: boolean;
  /** Letters of this channel read. */
  letters: number;
  /** Jobs appended to the retry log (dry run: that would be). */
  replayed: number;
  /** Of those, statuses turned from failed back to retrying. */
  reopened: number;
  /** Letters by error code: how many were read, how many replayed. */
  byCode: Record<string, { letters: number; replayed: number }>;
  /** Letters not replayed, by reason. */
  skipped: {
    /** Error code not among `codes`. */
    code: number;
    /** Status sent, gone or skipped: delivered or settled since. */
    settled: number;
    /** No status any more (purged by retention): too old to send. */
    expired: number;
    /** A later letter of a send key already taken in this run. */
    duplicate: number;
  };
  /** Records of the DLQ logs that are not channel letters with a send job (left alone). */
  unreadable: number;
}

/** The reason recorded on a reopened status. */
export const REPLAY_REASON = 'replayed from the DLQ (herald dlq replay)';

/** Dependencies of {@link replayChannelDeadLetters}. */
export interface DlqReplayDeps {
  topology: CompiledTopology;
  transport: LogTransport;
  statuses: DeliveryStatusStore;
  logger: Logger;
}

/**
 * Replays the channel's dead letters (see the module comment).
 * @throws HeraldError HERALD_TOPOLOGY_INVALID when the topology has no normal stage for the
 *   channel or its stages have no dead_letter_log; the log's and the store's errors
 *   (HERALD_LOG_*, HERALD_STORE_*) as they come: what was appended before stays appended, and a
 *   rerun finishes the rest
 */
export async function replayChannelDeadLetters(deps: DlqReplayDeps, options: DlqReplayOptions): Promise<DlqReplayReport> {
  const { channel } = options;
  const now = options.now ?? Date.now;
  const stages = deps.topology.stages.filter((s) => s.role === 'channel' && channelSinkOf(s).options.channel === channel);
  const normal = stages.find((s) => channelSinkOf(s).options.priority === 'normal');
  if (normal === undefined) {
    throw new HeraldError('HERALD_TOPOLOGY_INVALID', `The topology has no ${channel} channel stage with priority normal (the stage reading the retry log): add one, or replay another channel.`);
  }
  const retryLog = channelSinkOf(normal).retryLog;
  const logs = [...new Set(stages.map((s) => s.deadLetterLog).filter((l): l is string => l !== null))];
  if (logs.length === 0) {
    throw new HeraldError('HERALD_TOPOLOGY_INVALID', `The ${channel} channel stages have no dead_letter_log, so there is nothing to replay: set dead_letter_log on them (herald.channel.dlq in the shipped topology).`);
  }
  const codes = options.codes === undefined || options.codes.length === 0 ? null : new Set(options.codes);
  const dryRun = options.dryRun === true;
  const report: DlqReplayReport = {
    channel,
    logs,
    retryLog,
    dryRun,
    letters: 0,
    replayed: 0,
    reopened: 0,
    byCode: {},
    skipped: { code: 0, settled: 0, expired: 0, duplicate: 0 },
    unreadable: 0,
  };
  const taken = new Set<string>();
  const producer = dryRun ? null : deps.transport.createProducer();
  const log = deps.logger.child({ command: 'dlq replay', channel });
  try {
    const onBatch = async (batch: FetchedBatch): Promise<void> => {
      const candidates: { job: SendJob<unknown>; code: string; replayKey: string }[] = [];
      for (const record of batch.records()) {
        const letter = parseLetter(record.value, `:replay:${record.partition}:${record.offset}`);
        if (letter === null) {
          report.unreadable++;
          continue;
        }
        if (letter.job.channel !== channel) continue;
        report.letters++;
        const byCode = (report.byCode[letter.code] ??= { letters: 0, replayed: 0 });
        byCode.letters++;
        if (codes !== null && !codes.has(letter.code)) report.skipped.code++;
        else if (taken.has(letter.job.key)) report.skipped.duplicate++;
        else {
          taken.add(letter.job.key);
          candidates.push(letter);
        }
      }
      if (candidates.length === 0) return;
      const statuses = await deps.statuses.statusOf(candidates.map((c) => c.job.key));
      const replay: typeof candidates = [];
      for (const c of candidates) {
        const state = statuses.get(c.job.key)?.state;
        if (state === undefined) report.skipped.expired++;
        else if (state === 'sent' || state === 'gone' || state === 'skipped') report.skipped.settled++;
        else replay.push(c);
      }
      if (replay.length === 0) return;
      const failed = replay.filter((c) => statuses.get(c.job.key)?.state === 'failed');
      if (producer !== null) {
        const at = now();
        report.reopened += await deps.statuses.reopen(failed.map((c) => c.job), REPLAY_REASON, at);
        await producer.send(
          retryLog,
          replay.map((c) => ({ key: c.job.user_id, value: JSON.stringify({ ...c.job, attempt: 1, not_before_ms: 0, message: { ...(c.job.message as object), key: c.replayKey } }) })),
        );
      } else {
        report.reopened += failed.length;
      }
      report.replayed += replay.length;
      for (const c of replay) report.byCode[c.code]!.replayed++;
    };
    for (const dlq of logs) {
      const partitions = deps.transport.partitionCount(dlq);
      for (let p = 0; p < partitions; p++) await deps.transport.readToEnd(dlq, p, onBatch);
    }
  } finally {
    await producer?.close();
  }
  log.info({ ...report }, dryRun ? 'dlq replay (dry run): nothing changed' : 'dlq replay done');
  return report;
}

const decoder = new TextDecoder();

/** A DLQ record holding a channel send job, or null for anything else. `replaySuffix` makes its replay key. */
function parseLetter(value: Uint8Array, replaySuffix: string): { job: SendJob<unknown>; code: string; replayKey: string } | null {
  try {
    const letter = JSON.parse(decoder.decode(value)) as { error?: { code?: unknown }; value?: unknown };
    if (typeof letter.value !== 'string') return null;
    const job = JSON.parse(letter.value) as Partial<SendJob<unknown>>;
    if (typeof job.key !== 'string' || typeof job.user_id !== 'string' || typeof job.channel !== 'string' || typeof job.message !== 'object' || job.message === null) return null;
    const code = typeof letter.error?.code === 'string' ? letter.error.code : 'UNKNOWN';
    return { job: job as SendJob<unknown>, code, replayKey: `${job.key}${replaySuffix}` };
  } catch {
    return null;
  }
}
