/**
 * A member of a Kafka consumer group behind {@link LogConsumer}, on librdkafka's KafkaConsumer.
 *
 * - Cooperative-sticky assignment (KIP-429): a rebalance moves only the partitions that change
 *   owner; the others keep running.
 * - One poll loop calls consume() continuously, also while batches run on worker threads, so a
 *   slow batch never exceeds max.poll.interval.ms. A partition whose batch is in flight buffers
 *   what arrives (and is paused once it holds a full batch); batches of one partition are handed
 *   one at a time, in offset order; different partitions run concurrently.
 * - Revocation waits for the partition's in-flight batch to finish and commit, then calls
 *   `onRevoked`, then gives the partition up. A revoked partition's buffered records are dropped:
 *   the new owner reads them from the committed offset.
 * - At-least-once (default): offsets are committed (asynchronously, librdkafka batches them) after
 *   the handler and its appends resolved; synchronously on revoke and close.
 * - Exactly-once (`exactlyOnce`): the handler's appends and the offset go through a
 *   {@link TransactionCommitter}; downstream readers use isolation.level=read_committed (all
 *   Herald consumers do).
 */
import { HeraldError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { counter } from '../../core/metrics.ts';
import { createImmediateOutput } from '../immediate-output.ts';
import { RecordsEncoder, type EncodedRecords } from '../record-codec.ts';
import type { BatchHandler, BatchOutput, ConsumerOptions, LogConsumer, LogProducer, PartitionLag, ProduceRecord, TopicPartition } from '../types.ts';
import type { EncodedBatch } from '../encoded-batch.ts';
import { kafkaBatch, type KafkaMessage } from './batch.ts';
import { call, loadKafkaClient, RD, type CooperativeConsumer, type RdKafkaError } from './client.ts';
import type { ResolvedKafkaOptions } from './options.ts';
import { connectClient } from './producer.ts';
import { TransactionCommitter, type TransactionUnit } from './transactions.ts';

type RdConsumer = InstanceType<ReturnType<typeof loadKafkaClient>['KafkaConsumer']> & CooperativeConsumer;

const rebalances = counter('herald_log_rebalance_partitions_total', 'Partitions assigned to or revoked from this member.', ['group', 'kind']);
const retries = counter('herald_log_batch_retries_total', 'Batches handed again after their handler or commit failed.', ['group']);

/** How long one consume() call waits for records, ms. */
const POLL_MS = 100;
const RETRY_BACKOFF_MS = 100;
const RETRY_BACKOFF_MAX_MS = 5_000;

/** What a consumer needs from its transport. */
export interface KafkaConsumerHost {
  options: ResolvedKafkaOptions;
  /** Partition count of a log topic. */
  partitions(topic: string): number;
  /** The transport's shared producer (at-least-once appends). */
  producer: LogProducer;
  log: Logger;
  /**
   * A transactional id for an exactly-once member of `groupId`: `<group>.<instanceId>.<n>`, n
   * counting that group's members in this process (deterministic across restarts).
   */
  transactionalId(groupId: string): string;
  forget(c: KafkaLogConsumer): void;
}

/** Per-partition state of this member. */
class PartitionQueue {
  readonly tp: TopicPartition;
  readonly buffered: KafkaMessage[] = [];
  /** Offset after the last buffered record; records below it are repeats (after a resume). */
  next = -1;
  busy = false;
  paused = false;
  revoking = false;
  /** Offset to commit synchronously at revoke/close (at-least-once only). */
  committable = -1;
  #idle: (() => void)[] = [];

  constructor(tp: TopicPartition) {
    this.tp = tp;
  }

  idle(): Promise<void> {
    return this.busy ? new Promise((r) => this.#idle.push(r)) : Promise.resolve();
  }

  settle(): void {
    this.busy = false;
    for (const r of this.#idle.splice(0)) r();
  }
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** See the module comment. */
export class KafkaLogConsumer implements LogConsumer {
  readonly #o: ConsumerOptions & { maxBatchRecords: number };
  readonly #host: KafkaConsumerHost;
  readonly #log: Logger;
  readonly #rd: RdConsumer;
  readonly #parts = new Map<string, PartitionQueue>();
  readonly #encoder = new RecordsEncoder();
  #txn: TransactionCommitter | null = null;
  #handler: BatchHandler | null = null;
  #connected: Promise<void> | null = null;
  #rebalancing: Promise<void> = Promise.resolve();
  #loop: Promise<void> | null = null;
  #stopping = false;
  #closing: Promise<void> | null = null;

  constructor(options: ConsumerOptions, host: KafkaConsumerHost) {
    const { KafkaConsumer } = loadKafkaClient();
    this.#o = { ...options, maxBatchRecords: options.maxBatchRecords ?? 1000 };
    this.#host = host;
    this.#log = host.log.child({ group: options.groupId });
    const o = host.options;
    this.#rd = new KafkaConsumer(
      {
        'bootstrap.servers': o.brokers,
        'client.id': `${o.clientId}-${options.groupId}`,
        'group.id': options.groupId,
        'partition.assignment.strategy': 'cooperative-sticky',
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'session.timeout.ms': o.sessionTimeoutMs,
        'heartbeat.interval.ms': Math.max(100, Math.floor(o.sessionTimeoutMs / 5)),
        'max.poll.interval.ms': o.maxPollIntervalMs,
        'fetch.wait.max.ms': 10,
        'socket.nagle.disable': true,
        rebalance_cb: (err: RdKafkaError, assignment: TopicPartition[]) => this.#onRebalance(err, assignment),
        ...o.extra,
      },
      { 'auto.offset.reset': options.fromBeginning === false ? 'latest' : 'earliest' },
    ) as RdConsumer;
    this.#rd.on('event.error', (err) => this.#log.warn({ err }, 'kafka consumer error'));
    this.#rd.setDefaultConsumeTimeout(POLL_MS);
    // consume(n) otherwise applies the timeout per message: a trickle of records would keep one
    // call waiting for n of them (measured: 3.3 s per call at 300 records/s; 4 ms with this).
    this.#rd.setDefaultIsTimeoutOnlyForFirstMessage(true);
  }

  /**
   * Connects, subscribes and starts the poll loop; resolves once subscribed (partitions arrive
   * with the first rebalance).
   * @throws HeraldError HERALD_LOG_BROKER_UNAVAILABLE, HERALD_LOG_CLOSED
   */
  async run(handler: BatchHandler): Promise<void> {
    if (this.#closing !== null || this.#stopping) throw new HeraldError('HERALD_LOG_CLOSED', 'kafka consumer is closed');
    if (this.#handler !== null) throw new Error('run() was already called on this consumer');
    this.#handler = handler;
    await this.#connect();
    if (this.#o.exactlyOnce) {
      this.#txn = new TransactionCommitter(this.#host.options, this.#o.groupId, this.#host.transactionalId(this.#o.groupId), this.#rd, (t) => this.#host.partitions(t), this.#log);
      await this.#txn.start();
    }
    this.#rd.subscribe(this.#o.topics);
    this.#loop = this.#pollLoop();
  }

  #connect(): Promise<void> {
    this.#connected ??= connectClient(this.#rd, this.#host.options, `consumer group ${this.#o.groupId}`);
    return this.#connected;
  }

  /** Partitions this member owns and processes now. */
  assignment(): TopicPartition[] {
    return [...this.#parts.values()].filter((q) => !q.revoking).map((q) => q.tp);
  }

  /** Committed offset, high watermark and lag of every partition of the subscribed topics. */
  async lag(): Promise<PartitionLag[]> {
    await this.#connect();
    const tps: TopicPartition[] = [];
    for (const topic of this.#o.topics) for (let p = 0; p < this.#host.partitions(topic); p++) tps.push({ topic, partition: p });
    const committed = await call<{ topic: string; partition: number; offset: number }[]>((cb) => this.#rd.committed(tps, this.#host.options.requestTimeoutMs, cb as never));
    const out: PartitionLag[] = [];
    for (const c of committed) {
      const w = await call<{ highOffset: number; lowOffset: number }>((cb) => this.#rd.queryWatermarkOffsets(c.topic, c.partition, this.#host.options.requestTimeoutMs, cb as never));
      const committedOffset = c.offset >= 0 ? c.offset : w.lowOffset;
      out.push({ topic: c.topic, partition: c.partition, committedOffset, highWatermark: w.highOffset, lag: Math.max(0, w.highOffset - committedOffset) });
    }
    return out;
  }

  /** Stops polling, finishes in-flight batches, commits, leaves the group. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping = true;
      await this.#loop;
      await this.#rebalancing;
      const all = [...this.#parts.values()];
      if (all.length > 0) await this.#release(all, false);
      try {
        if (this.#connected !== null) {
          await this.#connected;
          if (this.#handler !== null) this.#rd.unsubscribe();
          await call((cb) => this.#rd.disconnect(cb));
        }
      } catch (err) {
        this.#log.warn({ err }, 'kafka consumer did not leave cleanly');
      }
      await this.#txn?.close();
      this.#host.forget(this);
    })();
    return this.#closing;
  }

  // ── rebalance ────────────────────────────────────────────────────────────────────────────

  #onRebalance(err: RdKafkaError, assignment: TopicPartition[]): void {
    const tps = assignment.map(({ topic, partition }) => ({ topic, partition }));
    if (this.#stopping) {
      // close(): our own partitions were already released; just let librdkafka go on.
      if (err.code === RD.REVOKE_PARTITIONS) this.#rd.incrementalUnassign(tps);
      return;
    }
    if (err.code === RD.ASSIGN_PARTITIONS) {
      this.#rebalancing = this.#rebalancing.then(() => this.#assign(tps));
    } else if (err.code === RD.REVOKE_PARTITIONS) {
      const lost = this.#rd.assignmentLost();
      this.#rebalancing = this.#rebalancing.then(() => this.#revoke(tps, lost));
    } else {
      this.#log.error({ err }, 'rebalance error');
    }
  }

  async #assign(tps: TopicPartition[]): Promise<void> {
    rebalances.inc({ group: this.#o.groupId, kind: 'assigned' }, tps.length);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#o.onAssigned?.(tps);
        break;
      } catch (err) {
        if (this.#stopping) return;
        const delayMs = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MS * 2 ** attempt);
        this.#log.error({ err, partitions: tps, delayMs }, 'onAssigned failed; trying again');
        await sleep(delayMs);
      }
    }
    for (const tp of tps) this.#parts.set(keyOf(tp.topic, tp.partition), new PartitionQueue(tp));
    this.#rd.incrementalAssign(tps);
    this.#log.debug({ partitions: tps }, 'partitions assigned');
  }

  async #revoke(tps: TopicPartition[], lost: boolean): Promise<void> {
    rebalances.inc({ group: this.#o.groupId, kind: lost ? 'lost' : 'revoked' }, tps.length);
    const queues = tps.map((tp) => this.#parts.get(keyOf(tp.topic, tp.partition))).filter((q): q is PartitionQueue => q !== undefined);
    await this.#release(queues, lost);
    this.#rd.incrementalUnassign(tps);
    // A lost assignment means the broker dropped this member (session timeout or poll interval).
    if (lost) this.#log.warn({ partitions: tps }, 'partitions lost: this member was dropped from the group; rejoining');
    else this.#log.debug({ partitions: tps }, 'partitions revoked');
  }

  /** Waits for in-flight batches, commits (unless lost), calls onRevoked, forgets the queues. */
  async #release(queues: PartitionQueue[], lost: boolean): Promise<void> {
    for (const q of queues) {
      q.revoking = true;
      q.buffered.length = 0;
    }
    await Promise.all(queues.map((q) => q.idle()));
    if (!lost && this.#txn === null) {
      const offsets = queues.filter((q) => q.committable >= 0).map((q) => ({ ...q.tp, offset: q.committable }));
      if (offsets.length > 0) {
        try {
          this.#rd.commitSync(offsets);
        } catch (err) {
          this.#log.warn({ err, offsets }, 'offset commit on revoke failed; the next owner re-reads from the last committed offset');
        }
      }
    }
    try {
      await this.#o.onRevoked?.(queues.map((q) => q.tp));
    } catch (err) {
      this.#log.error({ err }, 'onRevoked failed');
    }
    for (const q of queues) this.#parts.delete(keyOf(q.tp.topic, q.tp.partition));
  }

  // ── polling ──────────────────────────────────────────────────────────────────────────────

  async #pollLoop(): Promise<void> {
    while (!this.#stopping) {
      let messages: KafkaMessage[];
      try {
        messages = await call<KafkaMessage[]>((cb) => this.#rd.consume(this.#o.maxBatchRecords, cb as never));
      } catch (err) {
        if ((err as RdKafkaError).code !== RD.TIMED_OUT) this.#log.warn({ err }, 'consume failed');
        await sleep(POLL_MS);
        continue;
      }
      const touched = new Set<PartitionQueue>();
      for (const m of messages) {
        const q = this.#parts.get(keyOf(m.topic, m.partition));
        if (q === undefined || q.revoking || m.offset < q.next) continue;
        q.buffered.push(m);
        q.next = m.offset + 1;
        touched.add(q);
      }
      for (const q of touched) {
        if (q.busy && !q.paused && q.buffered.length >= this.#o.maxBatchRecords) {
          this.#rd.pause([q.tp]);
          q.paused = true;
        }
        if (!q.busy) void this.#drain(q);
      }
      if (messages.length === 0) await new Promise((r) => setImmediate(r));
    }
  }

  /** Hands the buffered records of `q` batch by batch until it is empty or revoked. */
  async #drain(q: PartitionQueue): Promise<void> {
    q.busy = true;
    try {
      let attempt = 0;
      while (q.buffered.length > 0 && !q.revoking) {
        const take = q.buffered.slice(0, this.#o.maxBatchRecords);
        const hw = this.#highWatermark(q.tp);
        const batch = kafkaBatch(take, hw, this.#encoder);
        try {
          await this.#handle(q, batch);
          attempt = 0;
          q.buffered.splice(0, take.length);
        } catch (err) {
          if (q.revoking) break;
          if ((err as { code?: string }).code === 'HERALD_LOG_FENCED') {
            // Another producer took this member's transactional id: it must not process anything
            // more. Leave the group so the live members take the partitions over.
            this.#log.error({ err }, 'fenced: leaving the consumer group');
            setImmediate(() => void this.close());
            break;
          }
          attempt++;
          retries.inc({ group: this.#o.groupId });
          const delayMs = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MS * 2 ** (attempt - 1));
          this.#log.warn({ err, ...q.tp, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, attempt, delayMs }, 'batch failed; handing the same records again after a backoff');
          await sleep(delayMs);
        }
        if (q.paused && q.buffered.length < this.#o.maxBatchRecords && !q.revoking) {
          this.#rd.resume([q.tp]);
          q.paused = false;
        }
      }
    } finally {
      q.settle();
    }
  }

  async #handle(q: PartitionQueue, batch: EncodedBatch): Promise<void> {
    const committed: (() => Promise<void> | void)[] = [];
    const next = batch.lastOffset + 1;
    if (this.#txn !== null) {
      const unit: TransactionUnit = { outputs: [], offset: { ...q.tp, offset: next } };
      const output: BatchOutput = {
        append: async (topic: string, records: ProduceRecord[]) => void unit.outputs.push({ topic, records }),
        appendEncoded: async (topic: string, records: EncodedRecords) => void unit.outputs.push({ topic, records }),
        onCommitted: (fn) => void committed.push(fn),
      };
      await this.#handler!(batch, output);
      await this.#txn.commit(unit);
      // Committed: from here on the batch must never be handed again. Local state that follows
      // the commit is retried on its own until it succeeds or the partition goes away.
      for (const fn of committed) await this.#retryCommitted(q, fn);
      return;
    }
    const out = createImmediateOutput(this.#host.producer);
    await this.#handler!(batch, out.output);
    await out.settle();
    q.committable = next;
    this.#rd.commit({ ...q.tp, offset: next });
  }

  async #retryCommitted(q: PartitionQueue, fn: () => Promise<void> | void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return;
      } catch (err) {
        if (q.revoking) return;
        const delayMs = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MS * 2 ** attempt);
        this.#log.error({ err, ...q.tp, delayMs }, 'post-commit step failed; retrying it (the batch itself is committed)');
        await sleep(delayMs);
      }
    }
  }

  #highWatermark(tp: TopicPartition): number {
    try {
      return this.#rd.getWatermarkOffsets(tp.topic, tp.partition).highOffset;
    } catch {
      return -1;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
