/**
 * The core of a channel worker: processes ONE batch of send jobs of one channel (email, sms or
 * push) and returns what the log runtime must write next (retry jobs, dead letters) and what it
 * must act on (push subscriptions that are gone). The statuses of the batch are recorded in the
 * DeliveryStatusStore before the caller commits its offsets: at the end of the batch, and while it
 * runs every `statusFlushMs` (a batch paced by a rate limit lasts seconds). A replay of the batch
 * (crash before the commit) finds the recorded statuses and sends nothing twice; only the sends of
 * the last flush interval before a crash can be sent again, and those carry the provider's
 * idempotency key (SMS `Idempotency-Key`, email `Message-ID`, push `Topic`).
 *
 * Per batch:
 * 1. one `statusOf` for every key; jobs whose status is final (sent, failed, gone, skipped) are
 *    replays and are dropped; a key that appears twice in the batch is processed once (the first);
 * 2. jobs whose `not_before_ms` is in the future come back as retries, unchanged;
 * 3. the rest are sent critical first (stable otherwise), up to `concurrency` at a time, but the
 *    jobs of one recipient one after the other, in batch order;
 * 4. before each send, `limiter.acquire(recipient)`: a provider budget or pause that frees up
 *    within `maxInProcessWaitMs` is waited out in process (a 10/s provider is drained at 10/s;
 *    a new window starts only one second after the previous window's sends completed, because
 *    providers count a sliding second while the limiter counts fixed windows);
 *    a recipient's budget or a longer pause reschedules the job (`not_before_ms = now + waitMs`)
 *    without counting an attempt;
 * 5. the outcome: `sent` → status sent; `retry` throttled (HTTP 429, SMTP 421: the provider's
 *    pace, never the message's fault) → the provider is paused for Retry-After (or 1 s) and the
 *    job retried after it WITHOUT counting an attempt, so throttling never ends in the DLQ;
 *    other `retry` → retry job with attempt+1 after {@link retryDelayMs} (Retry-After as floor),
 *    or after `maxAttempts` a dead letter and status failed; `gone` → status gone and the job in `gone`; `failed` → dead letter
 *    and status failed.
 *
 * Not wired into a job yet: the caller owns the topics (channel log, retry topic, DLQ), the offsets
 * and the removal of gone push subscriptions.
 */
import { counter } from '../../core/metrics.ts';
import { logger, type Logger } from '../../core/logger.ts';
import type { DeliveryStatus, DeliveryStatusStore } from '../../stores/types.ts';
import { DEFAULT_BACKOFF, retryDelayMs, type BackoffOptions } from './backoff.ts';
import { isFinalDeliveryState } from './memory-status-store.ts';
import type { PriorityGate } from './priority-gate.ts';
import type { ProviderRateLimiter } from './rate-limiter.ts';
import type { ChannelName, ChannelProvider, SendOutcome } from './types.ts';

/** One send of one notification to one user on one channel (a record of a channel or retry topic). */
export interface SendJob<M> {
  /** `<notification id>:<user_id>:<channel>`: the delivery status key and the provider's idempotency key. */
  key: string;
  notification_id: string;
  user_id: string;
  channel: ChannelName;
  /** The notification's topic (its preferences are checked again when the job is replayed from the DLQ); absent in jobs written before it was recorded. */
  topic_id?: string;
  /** Provider attempt this job is, 1-based (a retry job of attempt n carries n+1). */
  attempt: number;
  /** Earliest send time, epoch ms (0 for a first attempt). */
  not_before_ms: number;
  /** Critical notifications are sent before bulk ones of the same batch. */
  critical: boolean;
  /** What per-recipient limits count: the email address, the phone number, the push endpoint. */
  recipient: string;
  /** The provider's message. */
  message: M;
}

/** A job that will never be sent: for the DLQ. */
export interface DeadLetter<M> {
  job: SendJob<M>;
  /** The provider's last reason (for exhausted retries, the last transient error). */
  reason: string;
  /** Stable code: the provider's (`HTTP_400`, `INVALID_E164`, SMTP code …) or `RETRIES_EXHAUSTED`. */
  code: string;
}

/** What one batch produced; the caller writes it, then commits its offsets. */
export interface BatchResult<M> {
  /** Jobs for the retry topic: rescheduled (same attempt) or retried (attempt+1). */
  retries: SendJob<M>[];
  /** Jobs for the DLQ. */
  deadLetters: DeadLetter<M>[];
  /** The statuses recorded for this batch (already written to the status store). */
  statuses: DeliveryStatus[];
  /** Jobs whose address is gone (push 404/410): the caller removes the push subscription. */
  gone: SendJob<M>[];
}

/** Options of {@link ChannelWorker}. */
export interface ChannelWorkerOptions<M> {
  provider: ChannelProvider<M>;
  limiter: ProviderRateLimiter;
  statuses: DeliveryStatusStore;
  /** Provider attempts before a transiently failing job goes to the DLQ (throttles do not count). Default 12. */
  maxAttempts?: number;
  /** Retry delays. Default {@link DEFAULT_BACKOFF}. */
  backoff?: BackoffOptions;
  /** Longest rate-limit wait (provider budget or pause) done in process, ms; longer ones reschedule. Default 2,000. */
  maxInProcessWaitMs?: number;
  /**
   * Added to every in-process rate-limit wait, ms (timer and clock jitter between our window and
   * the provider's). Default 25.
   */
  waitMarginMs?: number;
  /** Sends in flight at once (distinct recipients). Default 4. */
  concurrency?: number;
  /** Provider pause after a 429 without Retry-After, ms. Default 1,000. */
  defaultThrottleMs?: number;
  /** Uniform [0, 1) source for the backoff jitter. Default Math.random. */
  random?: () => number;
  /**
   * Critical work of the same channel in this process (the critical lane's stage): before taking
   * a provider budget for a send, this worker waits while that work runs, so critical sends go
   * ahead of this worker's bulk sends. Absent: never yields.
   */
  yieldTo?: PriorityGate;
  /**
   * Statuses of a running batch are recorded at least this often, ms, so a crash resends at most
   * this much of the batch (and the rest of the batch is recorded at its end). Default 1,000.
   */
  statusFlushMs?: number;
}

const sends = counter('herald_channel_sends_total', 'Channel provider sends by outcome (sent, retry, gone, failed).', ['channel', 'provider', 'outcome']);
const deferred = counter('herald_channel_deferred_total', 'Channel jobs rescheduled without an attempt (not due yet, recipient limit, long provider pause).', ['channel', 'provider', 'reason']);
const replays = counter('herald_channel_replays_total', 'Channel jobs skipped because their delivery status was already final (or the key repeated in the batch).', ['channel', 'provider']);
const deadLettered = counter('herald_channel_dead_letters_total', 'Channel jobs sent to the DLQ.', ['channel', 'provider', 'code']);

/** The window of ProviderRateLimiter's per-second budget, ms. */
const PROVIDER_WINDOW_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Processes batches of send jobs of one channel (see the module comment). */
export class ChannelWorker<M> {
  readonly #provider: ChannelProvider<M>;
  readonly #limiter: ProviderRateLimiter;
  readonly #store: DeliveryStatusStore;
  readonly #maxAttempts: number;
  readonly #backoff: BackoffOptions;
  readonly #maxWait: number;
  readonly #margin: number;
  readonly #concurrency: number;
  readonly #throttleMs: number;
  readonly #random: () => number;
  readonly #flushMs: number;
  readonly #yieldTo: PriorityGate | undefined;
  readonly #log: Logger;
  /** Sends in flight; each resolves with its completion time (performance.now()). */
  readonly #inflight = new Set<Promise<number>>();
  /** Completion time of the latest send (performance.now()), 0 before the first. */
  #lastDoneAt = 0;

  /** @throws RangeError for a maxAttempts or concurrency that is not a positive integer, or a negative wait */
  constructor(o: ChannelWorkerOptions<M>) {
    this.#provider = o.provider;
    this.#limiter = o.limiter;
    this.#store = o.statuses;
    this.#maxAttempts = o.maxAttempts ?? 12;
    this.#backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.#maxWait = o.maxInProcessWaitMs ?? 2_000;
    this.#margin = o.waitMarginMs ?? 25;
    this.#concurrency = o.concurrency ?? 4;
    this.#throttleMs = o.defaultThrottleMs ?? 1_000;
    this.#random = o.random ?? Math.random;
    this.#flushMs = o.statusFlushMs ?? 1_000;
    this.#yieldTo = o.yieldTo;
    for (const [name, v] of [['maxAttempts', this.#maxAttempts], ['concurrency', this.#concurrency]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    for (const [name, v] of [['maxInProcessWaitMs', this.#maxWait], ['waitMarginMs', this.#margin], ['defaultThrottleMs', this.#throttleMs], ['statusFlushMs', this.#flushMs]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be ≥ 0, got ${v}`);
    }
    this.#log = logger.child({ module: 'channel-worker', channel: o.provider.channel, provider: o.provider.name });
  }

  /**
   * Processes one batch (see the module comment) and records its statuses: one `record()` at the
   * end, plus one every `statusFlushMs` while the batch runs.
   *
   * @param nowMs the batch's time, epoch ms: what `not_before_ms` is compared with; times computed
   *   later in the batch (retry `not_before_ms`, `updated_at`) are `nowMs` plus the time elapsed.
   * @throws when the status store fails, or a provider rejects (a programming error): the statuses
   *   of the sends that completed are recorded first, then the error is rethrown (the caller does
   *   not commit; the replay skips what was recorded).
   */
  async process(jobs: readonly SendJob<M>[], nowMs: number): Promise<BatchResult<M>> {
    const result: BatchResult<M> = { retries: [], deadLetters: [], statuses: [], gone: [] };
    if (jobs.length === 0) return result;
    const started = performance.now();
    const now = (): number => nowMs + Math.round(performance.now() - started);
    const labels = { channel: this.#provider.channel, provider: this.#provider.name };

    const known = await this.#store.statusOf([...new Set(jobs.map((j) => j.key))]);
    const seen = new Set<string>();
    const due: SendJob<M>[] = [];
    for (const job of jobs) {
      const s = known.get(job.key);
      if ((s !== undefined && isFinalDeliveryState(s.state)) || seen.has(job.key)) {
        replays.inc(labels);
        continue;
      }
      seen.add(job.key);
      if (job.not_before_ms > nowMs) {
        deferred.inc({ ...labels, reason: 'not_due' });
        result.retries.push(job);
      } else {
        due.push(job);
      }
    }
    // Stable: Array.prototype.sort is stable since ES2019.
    due.sort((a, b) => Number(b.critical) - Number(a.critical));

    // Lanes take the first queued job whose recipient has nothing in flight: the first such job is
    // that recipient's earliest remaining one, so each recipient's order is kept.
    const queue = due;
    const busy = new Set<string>();
    // Statuses recorded so far (result.statuses[0, flushed)), and the flush in progress.
    let flushed = 0;
    let lastFlush = performance.now();
    let flushing: Promise<void> | null = null;
    const flush = async (): Promise<void> => {
      while (flushing !== null) await flushing;
      const chunk = result.statuses.slice(flushed);
      if (chunk.length === 0) return;
      flushed += chunk.length;
      lastFlush = performance.now();
      flushing = this.#store.record(chunk).finally(() => (flushing = null));
      await flushing;
    };
    let failure: { error: unknown } | null = null;
    let wake: (() => void) | null = null;
    const next = (): SendJob<M> | null | 'wait' => {
      if (queue.length === 0) return null;
      const i = queue.findIndex((j) => !busy.has(j.recipient));
      if (i < 0) return 'wait';
      return queue.splice(i, 1)[0]!;
    };
    const lane = async (): Promise<void> => {
      for (;;) {
        if (failure !== null) return;
        const job = next();
        if (job === null) return;
        if (job === 'wait') {
          await new Promise<void>((resolve) => {
            const prev = wake;
            wake = () => {
              prev?.();
              resolve();
            };
          });
          continue;
        }
        busy.add(job.recipient);
        try {
          await this.#one(job, now, result, labels);
          if (performance.now() - lastFlush >= this.#flushMs) await flush();
        } catch (error) {
          failure ??= { error };
        } finally {
          busy.delete(job.recipient);
          const w = wake;
          wake = null;
          w?.();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, Math.max(1, due.length)) }, lane));

    await flush();
    if (failure !== null) throw (failure as { error: unknown }).error;
    return result;
  }

  /** Rate limit, send and classify one due job into `result`. */
  async #one(job: SendJob<M>, now: () => number, result: BatchResult<M>, labels: { channel: ChannelName; provider: string }): Promise<void> {
    for (;;) {
      if (this.#yieldTo !== undefined && !job.critical) await this.#yieldTo.idle();
      const got = await this.#limiter.acquire(job.recipient, job.critical);
      if (got.allowed) break;
      if (got.reason !== 'recipient' && got.waitMs <= this.#maxWait) {
        if (got.reason === 'provider') await this.#waitOutWindow(got.waitMs);
        else await sleep(got.waitMs + this.#margin);
        continue;
      }
      deferred.inc({ ...labels, reason: got.reason });
      const at = now();
      result.retries.push({ ...job, not_before_ms: at + got.waitMs });
      // Waiting has a status too: GET …/deliveries shows why nothing was sent yet.
      const why = got.reason === 'recipient' ? `waiting for the recipient's hourly limit (about ${Math.ceil(got.waitMs / 60_000)} min)` : `waiting for the provider (paused ${Math.ceil(got.waitMs / 1000)} s)`;
      result.statuses.push({ key: job.key, notification_id: job.notification_id, user_id: job.user_id, channel: job.channel, state: 'pending', attempts: job.attempt - 1, last_error: why, updated_at: at });
      return;
    }

    let markDone!: (at: number) => void;
    const done = new Promise<number>((resolve) => (markDone = resolve));
    this.#inflight.add(done);
    let outcome: SendOutcome;
    try {
      outcome = await this.#provider.send(job.message);
    } finally {
      const at = performance.now();
      if (at > this.#lastDoneAt) this.#lastDoneAt = at;
      this.#inflight.delete(done);
      markDone(at);
    }
    sends.inc({ ...labels, outcome: outcome.kind });
    const base = { key: job.key, notification_id: job.notification_id, user_id: job.user_id, channel: job.channel, attempts: job.attempt };
    switch (outcome.kind) {
      case 'sent':
        result.statuses.push({ ...base, state: 'sent', ...(outcome.providerId === undefined ? {} : { provider_id: outcome.providerId }), updated_at: now() });
        return;
      case 'gone':
        result.statuses.push({ ...base, state: 'gone', last_error: outcome.reason, updated_at: now() });
        result.gone.push(job);
        return;
      case 'failed':
        this.#deadLetter(job, outcome.reason, outcome.code, now, result, labels);
        return;
      case 'retry': {
        if (outcome.throttled === true) {
          const pauseMs = outcome.afterMs ?? this.#throttleMs;
          await this.#limiter.pause(pauseMs);
          deferred.inc({ ...labels, reason: 'throttled' });
          const at = now();
          result.retries.push({ ...job, not_before_ms: at + pauseMs });
          result.statuses.push({ ...base, state: 'retrying', last_error: outcome.reason, updated_at: at });
          return;
        }
        if (job.attempt >= this.#maxAttempts) {
          this.#deadLetter(job, outcome.reason, 'RETRIES_EXHAUSTED', now, result, labels);
          return;
        }
        const at = now();
        const delay = retryDelayMs(job.attempt, this.#backoff, outcome.afterMs, this.#random);
        result.retries.push({ ...job, attempt: job.attempt + 1, not_before_ms: at + delay });
        result.statuses.push({ ...base, state: 'retrying', last_error: outcome.reason, updated_at: at });
        return;
      }
    }
  }

  /**
   * Waits out the provider's per-second budget: until the limiter's window resets (`waitMs`), and
   * until one window after the last send of the closing window completed. The limiter counts fixed
   * one-second windows from their first send; providers count a sliding second of arrivals, so
   * resuming right at the reset would put the new window's sends within one second of the old
   * window's later ones (twice the budget in one second at the provider). Local to this worker: it
   * knows only its own sends.
   */
  async #waitOutWindow(waitMs: number): Promise<void> {
    const closing = [...this.#inflight];
    let last = this.#lastDoneAt;
    await sleep(waitMs + this.#margin);
    for (const at of await Promise.all(closing)) if (at > last) last = at;
    const hold = last + PROVIDER_WINDOW_MS + this.#margin - performance.now();
    if (hold > 0) await sleep(hold);
  }

  /** Adds a dead letter and its failed status; logs it. */
  #deadLetter(job: SendJob<M>, reason: string, code: string, now: () => number, result: BatchResult<M>, labels: { channel: ChannelName; provider: string }): void {
    deadLettered.inc({ ...labels, code });
    this.#log.warn({ key: job.key, attempt: job.attempt, code, reason }, 'channel send dead-lettered');
    result.deadLetters.push({ job, reason, code });
    result.statuses.push({ key: job.key, notification_id: job.notification_id, user_id: job.user_id, channel: job.channel, state: 'failed', attempts: job.attempt, last_error: reason, updated_at: now() });
  }
}
