/**
 * `herald dlq replay <channel>`: sends channel jobs from the DLQ again, after the cause is fixed
 * (a provider down for longer than the retries last, a sender id the provider did not know, a
 * credential).
 *
 * The DLQ logs of the channel's stages (herald.channel.dlq) are read twice, from the earliest
 * retained record to their end at the start of the run (read_committed on Kafka), without a
 * consumer group, so a replay never moves anyone's offsets and can be repeated:
 * 1. the position of the newest letter of each send key (a job replayed and refused again has
 *    several letters; the newest one's error code is the one that counts);
 * 2. each newest letter decides its job. The job is replayed when
 *    - its error code is one of `codes` (when given);
 *    - its delivery status is `failed`, or not final any more because an earlier replay reopened
 *      it (a replay that stopped between reopening and appending is finished by the next one).
 *      Sends `sent`, `gone` or `skipped` since never go out again, and a status purged by
 *      retention (HERALD_RETENTION_DAYS) means the notification is too old to send;
 *    - the user still has that address for the channel (the same email or phone, the same push
 *      endpoint; its current keys are used) and has not muted the channel for the topic since,
 *      unless it is critical: the channel's own rule, sinks/channels/preferences.ts.
 *
 * Per batch of letters: one status read for their keys, one settings and one preferences read for
 * their users, the `failed` statuses turned back into `retrying` (DeliveryStatusStore.reopen), and
 * only then the jobs appended to the channel's retry log as first attempts due now, keyed by
 * user_id like every retry (the worker drops a job whose status is final, so the reopen comes
 * first). The channel's normal stage sends them at the provider's pace; a job that fails again
 * gets a new letter.
 *
 * The provider's idempotency key of a replayed message (SMS `Idempotency-Key`, email `Message-ID`,
 * push `Topic`) is the send key plus `:replay:<DLQ partition>:<offset of the newest letter>`:
 * providers keep the answer they gave a key, refusals included, so the original key would fetch
 * the old refusal, and a key from an older letter the refusal of the previous replay. Rerunning a
 * replay before the job failed again reuses the key, so the provider deduplicates.
 */
import type { Logger } from '../core/logger.ts';
import { HeraldError } from '../core/errors.ts';
import type { ChannelName } from '../core/types.ts';
import type { FetchedBatch, LogTransport } from '../log/types.ts';
import { channelsFor } from '../sinks/channels/preferences.ts';
import type { PushMessage } from '../sinks/channels/types.ts';
import type { SendJob } from '../sinks/channels/worker.ts';
import type { DeliveryStatusStore, UserChannelSettings, UserChannelStore, UserPreferences } from '../stores/types.ts';
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
  /** Of those, jobs whose status an earlier replay had reopened already (appended again; the workers send each once). */
  requeued: number;
  /** Newest letter of each send key by error code: how many, how many replayed. */
  byCode: Record<string, { letters: number; replayed: number }>;
  /** Letters not replayed, by reason. */
  skipped: {
    /** Older letters of a send key whose newest letter decides. */
    superseded: number;
    /** Error code not among `codes`. */
    code: number;
    /** Status sent, gone or skipped: delivered or settled since. */
    settled: number;
    /** No status any more (purged by retention): too old to send. */
    expired: number;
    /** The user's address for the channel changed or was removed since. */
    address: number;
    /** The user muted the channel (for the topic or everywhere) since, and the job is not critical. */
    muted: number;
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
  userChannels: Pick<UserChannelStore, 'channelsOf' | 'preferencesOf'>;
  logger: Logger;
}

/** One letter of the channel. */
interface Letter {
  job: SendJob<unknown>;
  code: string;
  /** `<partition>:<offset>` in its DLQ log. */
  position: string;
}

/**
 * Replays the channel's dead letters (see the module comment).
 * @throws HeraldError HERALD_TOPOLOGY_INVALID when the topology has no normal stage for the
 *   channel or its stages have no dead_letter_log; the log's and the stores' errors
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
  const skipped: DlqReplayReport['skipped'] = { superseded: 0, code: 0, settled: 0, expired: 0, address: 0, muted: 0 };
  const counts = { letters: 0, replayed: 0, reopened: 0, requeued: 0, unreadable: 0 };
  const byCode = new Map<string, { letters: number; replayed: number }>();

  // Pass 1: the newest letter of each send key, and where each partition ended.
  const newest = new Map<string, string>();
  const ends = new Map<string, number>();
  await readLetters(deps.transport, logs, channel, null, (letter, log) => {
    if (letter === null) counts.unreadable++;
    else newest.set(letter.job.key, `${log}\u0000${letter.position}`);
  }, ends);

  // Pass 2: each newest letter decides its job, a batch at a time.
  const producer = dryRun ? null : deps.transport.createProducer();
  try {
    let pending: Letter[] = [];
    const flush = async (): Promise<void> => {
      const letters = pending;
      pending = [];
      if (letters.length === 0) return;
      const replay = await planReplay(deps, letters, skipped);
      if (replay.length === 0) return;
      const failed = replay.filter((r) => r.state === 'failed').map((r) => r.job);
      if (producer !== null) {
        counts.reopened += await deps.statuses.reopen(failed, REPLAY_REASON, now());
        await producer.send(retryLog, replay.map((r) => ({ key: r.job.user_id, value: JSON.stringify(r.job) })));
      } else {
        counts.reopened += failed.length;
      }
      counts.replayed += replay.length;
      counts.requeued += replay.length - failed.length;
      for (const r of replay) byCode.get(r.code)!.replayed++;
    };
    await readLetters(deps.transport, logs, channel, ends, (letter, log) => {
      if (letter === null) return;
      counts.letters++;
      if (newest.get(letter.job.key) !== `${log}\u0000${letter.position}`) {
        skipped.superseded++;
        return;
      }
      let n = byCode.get(letter.code);
      if (n === undefined) byCode.set(letter.code, (n = { letters: 0, replayed: 0 }));
      n.letters++;
      if (codes !== null && !codes.has(letter.code)) skipped.code++;
      else pending.push(letter);
    }, null, flush);
  } finally {
    await producer?.close();
  }
  const report: DlqReplayReport = {
    channel,
    logs,
    retryLog,
    dryRun,
    ...counts,
    // Own properties whatever a code is called (a code "__proto__" is just a code).
    byCode: Object.fromEntries([...byCode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    skipped,
  };
  const { channel: _, ...figures } = report;
  deps.logger.info({ command: 'dlq replay', channel, ...figures }, dryRun ? 'dlq replay (dry run): nothing changed' : 'dlq replay done');
  return report;
}

/**
 * Reads every partition of `logs` to its end (or to `upTo`'s offsets), handing each record of
 * `channel` as a letter (null: not a channel letter). Fills `ends` with each partition's last
 * offset read; `afterBatch` runs after each batch.
 */
async function readLetters(
  transport: LogTransport,
  logs: readonly string[],
  channel: ChannelName,
  upTo: ReadonlyMap<string, number> | null,
  onLetter: (letter: Letter | null, log: string) => void,
  ends: Map<string, number> | null,
  afterBatch?: () => Promise<void>,
): Promise<void> {
  for (const log of logs) {
    const partitions = transport.partitionCount(log);
    for (let p = 0; p < partitions; p++) {
      const end = upTo?.get(`${log}:${p}`) ?? (upTo === null ? Infinity : -1);
      await transport.readToEnd(log, p, async (batch: FetchedBatch) => {
        for (const record of batch.records()) {
          if (record.offset > end) break;
          ends?.set(`${log}:${p}`, record.offset);
          const letter = parseLetter(record.value, `${record.partition}:${record.offset}`);
          if (letter === null || letter.job.channel === channel) onLetter(letter, log);
        }
        await afterBatch?.();
      });
    }
  }
}

/** A job to append, with its status and the code of its letter. */
interface Replay {
  job: SendJob<unknown>;
  state: string;
  code: string;
}

/**
 * Decides which `letters` are replayed (statuses, then the users' current addresses and
 * preferences, each in one read) and builds their retry jobs; counts the others in `skipped`.
 */
async function planReplay(deps: DlqReplayDeps, letters: readonly Letter[], skipped: DlqReplayReport['skipped']): Promise<Replay[]> {
  const statuses = await deps.statuses.statusOf(letters.map((l) => l.job.key));
  const open: Letter[] = [];
  for (const l of letters) {
    const state = statuses.get(l.job.key)?.state;
    if (state === undefined) skipped.expired++;
    else if (state === 'sent' || state === 'gone' || state === 'skipped') skipped.settled++;
    else open.push(l);
  }
  if (open.length === 0) return [];
  const users = [...new Set(open.map((l) => l.job.user_id))];
  const [settings, prefs] = await Promise.all([deps.userChannels.channelsOf(users), deps.userChannels.preferencesOf(users)]);
  const out: Replay[] = [];
  for (const l of open) {
    const message = currentMessage(l.job, settings.get(l.job.user_id) ?? null, prefs.get(l.job.user_id) ?? null);
    if (message === 'address' || message === 'muted') {
      skipped[message]++;
      continue;
    }
    out.push({
      job: { ...l.job, attempt: 1, not_before_ms: 0, message: { ...message, key: `${l.job.key}:replay:${l.position}` } },
      state: statuses.get(l.job.key)!.state,
      code: l.code,
    });
  }
  return out;
}

/**
 * The job's message as it may be sent now: 'address' when the user no longer has the job's
 * address for the channel, 'muted' when the channel is muted for the job's topic (or everywhere)
 * and the job is not critical. A push message gets the subscription's current keys.
 */
function currentMessage(job: SendJob<unknown>, settings: UserChannelSettings | null, prefs: UserPreferences | null): Record<string, unknown> | 'address' | 'muted' {
  const message = job.message as Record<string, unknown>;
  if (settings === null) return 'address';
  let current: Record<string, unknown> | null = null;
  if (job.channel === 'email') current = settings.email === job.recipient ? message : null;
  else if (job.channel === 'sms') current = settings.phone === job.recipient ? message : null;
  else {
    const subscription = settings.push.find((s) => s.endpoint === job.recipient);
    current = subscription === undefined ? null : { ...message, subscription } satisfies Partial<PushMessage>;
  }
  if (current === null) return 'address';
  return channelsFor(settings, prefs, job.topic_id ?? '', [job.channel], job.critical).length === 0 ? 'muted' : current;
}

const decoder = new TextDecoder();

/** A DLQ record holding a channel send job, or null for anything else. */
function parseLetter(value: Uint8Array, position: string): Letter | null {
  try {
    const letter = JSON.parse(decoder.decode(value)) as { error?: { code?: unknown }; value?: unknown };
    if (typeof letter.value !== 'string') return null;
    const job = JSON.parse(letter.value) as Partial<SendJob<unknown>>;
    if (typeof job.key !== 'string' || typeof job.user_id !== 'string' || typeof job.channel !== 'string' || typeof job.recipient !== 'string' || typeof job.message !== 'object' || job.message === null) return null;
    const code = typeof letter.error?.code === 'string' ? letter.error.code : 'UNKNOWN';
    return { job: job as SendJob<unknown>, code, position };
  } catch {
    return null;
  }
}
