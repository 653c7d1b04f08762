/**
 * Runs one channel stage (`role: channel`, e.g. email): this process's member of the channel's
 * consumer group, sending through the channel's provider with {@link ChannelWorker}.
 *
 * Two consumers, one per log:
 * - the channel log (source of the stage, e.g. herald.channel.email; group = the stage's): each
 *   batch loads the users' addresses and preferences in one round trip per store shard, plans the
 *   sends (a user without an address, or who muted the channel, gets a `skipped` status), and
 *   hands them to the worker;
 * - the retry log (the `channel-delivery` sink's `log`, group `<group>.retry`): send jobs that
 *   failed transiently or were rescheduled by a rate limit, each with its `not_before_ms`. While
 *   no job of a batch is due, the consumer sleeps until the earliest one is (at most
 *   `retry_poll_ms`), so waiting retries cost one re-read per poll, not a busy loop.
 *
 * Critical lane: a channel may have a second stage (`priority: critical` on its sink) reading a
 * log that only critical notifications are routed to. It runs each batch inside the channel's
 * {@link PriorityGate}, and the normal stage's worker yields to it before each send, so a critical
 * send waits for neither the normal log's backlog nor its budget. The critical stage reads no
 * retry log: its retries go to the shared one, read by the normal stage (critical jobs first).
 *
 * What a batch produced (retry jobs, dead letters) is appended through the batch's output, in the
 * same transaction as its offsets on the kafka profile; the statuses are recorded by the worker
 * before that, so a replayed batch sends nothing already sent. Push subscriptions whose service
 * answered 404/410 are removed from the user's settings.
 */
import type { Logger } from '../../core/logger.ts';
import { counter } from '../../core/metrics.ts';
import type { ChannelName } from '../../core/types.ts';
import type { BatchOutput, FetchedBatch, LogConsumer, LogTransport } from '../../log/types.ts';
import { parseChannelRecord, type ChannelRecord } from '../../sinks/channels/channel-record.ts';
import { sendJobsFor } from '../../sinks/channels/send-jobs.ts';
import type { ChannelProvider, EmailMessage, PushMessage, SmsMessage } from '../../sinks/channels/types.ts';
import { ChannelWorker, type BatchResult, type SendJob } from '../../sinks/channels/worker.ts';
import type { ProviderRateLimiter } from '../../sinks/channels/rate-limiter.ts';
import { isFinalDeliveryState } from '../../sinks/channels/memory-status-store.ts';
import { PriorityGate } from '../../sinks/channels/priority-gate.ts';
import type { DeliveryStatusStore, UserChannelStore } from '../../stores/types.ts';
import { channelDeliveryOptions, type ChannelDeliveryOptions } from '../../topology/builtin-types.ts';
import type { CompiledSink, CompiledStage } from '../../topology/types.ts';
import { HeraldError } from '../../core/errors.ts';
import { failOnRejected, settleRejected, writeDeadLetters, type DeadLetterInput } from './dead-letters.ts';
import { observeBatch } from './stage-metrics.ts';
import type { RunningStage } from './operator-stage.ts';

type AnyMessage = EmailMessage | SmsMessage | PushMessage;

const recordsIn = counter('herald_stage_records_in_total', 'Records read by a stage.', ['stage']);
const skippedSends = counter('herald_channel_skipped_total', 'Channel records not sent: no address, or muted by the user (and not critical).', ['channel']);
const goneRemoved = counter('herald_channel_push_subscriptions_removed_total', 'Push subscriptions removed after their push service answered 404/410.', []);

/** Dependencies of {@link startChannelStage}. */
export interface ChannelStageDeps {
  stage: CompiledStage;
  transport: LogTransport;
  provider: ChannelProvider<AnyMessage>;
  limiter: ProviderRateLimiter;
  statuses: DeliveryStatusStore;
  userChannels: UserChannelStore;
  logger: Logger;
  /** Push: seconds a push service keeps a message for an offline device. */
  pushTtlSeconds: number;
  /** The channel's critical work in this process, shared by its normal and critical stages. Default: a new gate. */
  gate?: PriorityGate;
}

/** The `channel-delivery` sink of a channel stage, and its options. */
export function channelSinkOf(stage: CompiledStage): { sink: CompiledSink; options: ChannelDeliveryOptions; retryLog: string } {
  const sink = stage.sinks.find((s) => s.type === 'channel-delivery');
  if (stage.role !== 'channel' || sink === undefined || stage.operators.length > 0 || stage.sinks.length !== 1) {
    throw new HeraldError(
      'HERALD_TOPOLOGY_INVALID',
      `stage ${stage.name}: a role: channel stage reads its channel log straight into one channel-delivery sink (no operators, no other sinks); a channel-delivery sink belongs only in such a stage.`,
    );
  }
  if (sink.log === null) throw new HeraldError('HERALD_TOPOLOGY_INVALID', `sink ${sink.name}: a channel-delivery sink needs log: (its retry log).`);
  return { sink, options: channelDeliveryOptions.parse(sink.options), retryLog: sink.log };
}

/** A running channel stage member: its consumers. */
export interface RunningChannelStage extends RunningStage {
  readonly channel: ChannelName;
  /** The retry log's consumer; null for a critical lane (the normal stage reads the retry log). */
  readonly retryConsumer: LogConsumer | null;
}

/** Joins the channel's consumer groups (channel log and retry log) and sends until closed. */
export async function startChannelStage(deps: ChannelStageDeps): Promise<RunningChannelStage> {
  const { stage, transport, statuses, userChannels } = deps;
  const { options, retryLog } = channelSinkOf(stage);
  const channel = options.channel;
  if (deps.provider.channel !== channel) throw new Error(`stage ${stage.name} sends ${channel} but was given a ${deps.provider.channel} provider`);
  const log = deps.logger.child({ stage: stage.name, channel });
  const gate = deps.gate ?? new PriorityGate();
  const critical = options.priority === 'critical';
  const worker = new ChannelWorker<AnyMessage>({
    provider: deps.provider,
    limiter: deps.limiter,
    statuses,
    maxAttempts: options.max_attempts,
    concurrency: options.concurrency,
    ...(critical ? {} : { yieldTo: gate }),
  });
  /** Runs one batch's sends: inside the gate on the critical lane. */
  const send = (jobs: SendJob<AnyMessage>[], nowMs: number) => (critical ? gate.run(() => worker.process(jobs, nowMs)) : worker.process(jobs, nowMs));
  const labels = { stage: stage.name };
  const abort = new AbortController();

  /** Appends what a worker batch produced and removes gone push subscriptions. */
  const settle = async (result: BatchResult<AnyMessage>, output: BatchOutput, partition: number, sourceLog: string): Promise<void> => {
    if (result.retries.length > 0) {
      await output.append(retryLog, result.retries.map((job) => ({ key: job.user_id, value: JSON.stringify(job) })));
    }
    if (result.deadLetters.length > 0) {
      const letters: DeadLetterInput[] = result.deadLetters.map((d) => ({ offset: -1, key: d.job.user_id, value: JSON.stringify(d.job), code: d.code, message: d.reason }));
      if (stage.deadLetterLog) await writeDeadLetters(output, stage.deadLetterLog, { stage: stage.name, log: sourceLog, partition }, letters);
      else log.error({ count: letters.length, first: letters[0] }, 'channel sends failed for good and the stage has no dead_letter_log: they are only logged');
    }
    for (const job of result.gone) {
      if (job.channel !== 'push') continue;
      const { removed } = await userChannels.removePushSubscription(job.user_id, (job.message as PushMessage).subscription.endpoint);
      if (removed) goneRemoved.inc();
    }
  };

  const consumer = transport.createConsumer({
    groupId: stage.consumerGroup,
    topics: [stage.source.log],
    maxBatchRecords: stage.maxBatchRecords,
    exactlyOnce: true,
    onAssigned: (tps) => log.info({ partitions: tps.map((t) => t.partition) }, 'channel partitions assigned'),
    onRevoked: (tps) => log.info({ partitions: tps.map((t) => t.partition) }, 'channel partitions revoked'),
  });
  await consumer.run(async (batch, output) => {
    recordsIn.inc(labels, batch.count);
    observeBatch(stage.name, batch);
    const { records, bad } = decodeBatch(batch, (key, text): [string, ChannelRecord] => {
      if (key === null || key === '') throw new Error('the record has no key (the user_id)');
      return [key, parseChannelRecord(text, channel)];
    });
    failOnRejected(stage, bad);
    await settleRejected(output, stage, batch.partition, bad, log);
    if (records.length === 0) return;
    const users = [...new Set(records.map(([u]) => u))];
    const [settings, prefs] = await Promise.all([userChannels.channelsOf(users), userChannels.preferencesOf(users)]);
    const nowMs = Date.now();
    const planned = sendJobsFor(records, settings, prefs, { pushTtlSeconds: deps.pushTtlSeconds }, nowMs);
    if (planned.skipped.length > 0) {
      // A replay must not turn a send already made (then muted) into "skipped".
      const known = await statuses.statusOf(planned.skipped.map((s) => s.key));
      const fresh = planned.skipped.filter((s) => !isFinalDeliveryState(known.get(s.key)?.state ?? 'pending'));
      if (fresh.length > 0) await statuses.record(fresh);
      skippedSends.inc({ channel }, fresh.length);
    }
    const result = await send(planned.jobs, nowMs);
    await settle(result, output, batch.partition, stage.source.log);
  });

  if (critical) {
    return {
      stage,
      channel,
      consumer,
      retryConsumer: null,
      async close() {
        abort.abort();
        await consumer.close();
      },
    };
  }
  const retryConsumer = transport.createConsumer({
    groupId: `${stage.consumerGroup}.retry`,
    topics: [retryLog],
    maxBatchRecords: stage.maxBatchRecords,
    exactlyOnce: true,
  });
  await retryConsumer.run(async (batch, output) => {
    recordsIn.inc(labels, batch.count);
    const { records: jobs, bad } = decodeBatch(batch, (_key, text) => parseSendJob(text, channel));
    failOnRejected(stage, bad);
    await settleRejected(output, stage, batch.partition, bad, log, retryLog);
    if (jobs.length === 0) return;
    const earliest = Math.min(...jobs.map((j) => j.not_before_ms));
    const wait = Math.min(earliest - Date.now(), options.retry_poll_ms);
    if (wait > 0) await sleep(wait, abort.signal);
    const result = await worker.process(jobs, Date.now());
    await settle(result, output, batch.partition, retryLog);
  });

  return {
    stage,
    channel,
    consumer,
    retryConsumer,
    async close() {
      abort.abort();
      await Promise.all([consumer.close(), retryConsumer.close()]);
    },
  };
}

/**
 * Decodes every record of `batch` (key and value as UTF-8) with `parse`; a record it throws on
 * becomes a dead letter (HERALD_OPERATOR_RECORD_INVALID, with the error's message).
 */
function decodeBatch<T>(batch: FetchedBatch, parse: (key: string | null, text: string) => T): { records: T[]; bad: DeadLetterInput[] } {
  const records: T[] = [];
  const bad: DeadLetterInput[] = [];
  for (const r of batch.records()) {
    const key = r.key === null ? null : Buffer.from(r.key).toString('utf8');
    const text = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).toString('utf8');
    try {
      records.push(parse(key, text));
    } catch (err) {
      bad.push({ offset: r.offset, key, value: text, code: 'HERALD_OPERATOR_RECORD_INVALID', message: (err as Error).message });
    }
  }
  return { records, bad };
}

/**
 * Parses one retry-log record (a {@link SendJob} as the worker wrote it).
 * @throws Error naming what is wrong
 */
export function parseSendJob(text: string, channel: ChannelName): SendJob<AnyMessage> {
  const v = JSON.parse(text) as Partial<SendJob<AnyMessage>> | null;
  if (typeof v !== 'object' || v === null) throw new Error('value is not a JSON object');
  if (v.channel !== channel) throw new Error(`channel is ${JSON.stringify(v.channel)}, but this is the ${channel} retry log`);
  for (const f of ['key', 'notification_id', 'user_id', 'recipient'] as const) if (typeof v[f] !== 'string' || v[f] === '') throw new Error(`${f} is missing`);
  if (!Number.isInteger(v.attempt) || v.attempt! < 1) throw new Error('attempt is not a positive integer');
  if (typeof v.not_before_ms !== 'number' || !Number.isFinite(v.not_before_ms)) throw new Error('not_before_ms is not a number');
  if (typeof v.critical !== 'boolean') throw new Error('critical is not a boolean');
  if (typeof v.message !== 'object' || v.message === null) throw new Error('message is missing');
  return v as SendJob<AnyMessage>;
}

/** Resolves after `ms`, or at once when `signal` aborts (the stage is closing). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
