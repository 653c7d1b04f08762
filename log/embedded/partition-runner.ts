/**
 * The fetch loop of one assigned partition of one consumer: read a batch at the position, hand it
 * to the handler, commit `lastOffset + 1` when it resolves, retry the same records after a backoff
 * when it rejects, and sleep until the next append when caught up (event driven: the append path
 * wakes it in the same turn, no polling).
 */
import type { Logger } from '../../core/logger.ts';
import { createImmediateOutput } from '../immediate-output.ts';
import type { BatchHandler, LogProducer } from '../types.ts';
import { retryDelayMs } from './backoff.ts';
import { EncodedBatch } from '../encoded-batch.ts';
import { batchRetries, consumedRecords } from './metrics.ts';
import type { PartitionLog } from './partition-log.ts';

/** What a runner needs from its consumer. */
export interface RunnerContext {
  groupId: string;
  handler: BatchHandler;
  maxBatchRecords: number;
  maxBatchBytes: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /** Appends of the handlers' {@link BatchOutput}s. */
  producer: LogProducer;
  /** Called after a batch's handler resolved: `offset` = lastOffset + 1. */
  commit(topic: string, partition: number, offset: number): void;
  log: Logger;
}

/** Runs one partition for one consumer until stopped. */
export class PartitionRunner {
  readonly partition: PartitionLog;
  #position: number;
  #stopped = false;
  #wake: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #done: Promise<void> = Promise.resolve();
  readonly #ctx: RunnerContext;
  readonly #consumed;
  readonly #retries;

  /** @param position offset of the first record to hand */
  constructor(partition: PartitionLog, position: number, ctx: RunnerContext) {
    this.partition = partition;
    this.#position = position;
    this.#ctx = ctx;
    this.#consumed = consumedRecords.labels(partition.topic, ctx.groupId);
    this.#retries = batchRetries.labels(partition.topic, ctx.groupId);
  }

  /** Offset of the next record to hand. */
  get position(): number {
    return this.#position;
  }

  /** Starts the loop. */
  start(): void {
    this.#done = this.#loop();
  }

  /** Stops after the in-flight batch (if any) finished and was committed. Never rejects. */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#wake?.();
    return this.#done;
  }

  #sleepUntilAppend(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.partition.onAppend(resolve);
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        resolve();
      }, ms);
    });
  }

  async #loop(): Promise<void> {
    const p = this.partition;
    const ctx = this.#ctx;
    let attempt = 0;
    while (!this.#stopped) {
      const start = p.logStartOffset;
      const end = p.endOffset;
      if (this.#position < start) {
        ctx.log.warn({ topic: p.topic, partition: p.partition, position: this.#position, logStartOffset: start }, 'position before the log start (retention deleted it): skipping ahead');
        this.#position = start;
      } else if (this.#position > end) {
        ctx.log.warn({ topic: p.topic, partition: p.partition, position: this.#position, endOffset: end }, 'position past the log end: resetting to the end');
        this.#position = end;
      }
      if (this.#position === end) {
        await this.#sleepUntilAppend();
        continue;
      }
      let batch: EncodedBatch | null = null;
      try {
        const slice = p.read(this.#position, ctx.maxBatchRecords, ctx.maxBatchBytes);
        if (slice === null) continue;
        batch = new EncodedBatch(p.topic, p.partition, slice.firstOffset, slice.firstOffset + slice.count - 1, slice.count, end, slice.encoded);
        const out = createImmediateOutput(ctx.producer);
        await ctx.handler(batch, out.output);
        await out.settle();
      } catch (err) {
        attempt++;
        const delayMs = retryDelayMs(attempt, ctx.retryBackoffMs, ctx.retryBackoffMaxMs);
        this.#retries.inc();
        ctx.log.warn(
          { err, topic: p.topic, partition: p.partition, firstOffset: this.#position, lastOffset: batch?.lastOffset, attempt, delayMs },
          'batch handler failed; handing the same records again after a backoff',
        );
        if (!this.#stopped) await this.#sleep(delayMs);
        continue;
      }
      attempt = 0;
      this.#position = batch.lastOffset + 1;
      ctx.commit(p.topic, p.partition, this.#position);
      this.#consumed.inc(batch.count);
    }
  }
}
