/**
 * Group commit of consume-process-produce transactions (Kafka exactly-once, KIP-98 + KIP-447).
 *
 * Every finished batch of an exactly-once consumer becomes a {@link TransactionUnit}: the records
 * its handler appended and the source offset to commit. Units that finish while a transaction is
 * in flight wait and go together into the next one, so there is one transaction per round trip,
 * not per batch:
 *
 *   beginTransaction → produce every unit's records → sendOffsetsToTransaction(every unit's
 *   offset, consumer group metadata) → commitTransaction
 *
 * read_committed consumers downstream see all of a transaction's records or none. A crash before
 * the commit aborts it (the broker times it out, or the next initTransactions fences it); the
 * source offsets stay where they were, so the new owner of the partitions processes the same
 * records again and nothing is duplicated or lost. Because the offsets carry the consumer
 * group's generation (KIP-447), a member that lost its partitions in a rebalance cannot commit
 * them any more (zombie fencing).
 */
import { HeraldError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { counter, histogram } from '../../core/metrics.ts';
import { partitionFor } from '../murmur2.ts';
import { RecordCursor, type EncodedRecords } from '../record-codec.ts';
import type { ProduceRecord } from '../types.ts';
import { call, loadKafkaClient, RD, type RdKafkaError } from './client.ts';
import type { ResolvedKafkaOptions } from './options.ts';
import { asBuffer, connectClient, produceWithBackpressure, producerConfig } from './producer.ts';

type Rd = ReturnType<typeof loadKafkaClient>;
type RdProducer = InstanceType<Rd['Producer']>;
type RdConsumer = InstanceType<Rd['KafkaConsumer']>;

const transactions = counter('herald_log_transactions_total', 'Kafka transactions of exactly-once stages, by result.', ['group', 'result']);
const transactionSeconds = histogram('herald_log_transaction_duration_seconds', 'Time of one Kafka transaction, begin to commit.', ['group'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);

/** Output of one batch: appended records plus the source offset to commit with them. */
export interface TransactionUnit {
  outputs: { topic: string; records: ProduceRecord[] | EncodedRecords }[];
  /** Source partition and the offset to commit (last offset + 1). */
  offset: { topic: string; partition: number; offset: number };
}

interface Queued {
  unit: TransactionUnit;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** One transactional producer shared by all partitions of one consumer. */
export class TransactionCommitter {
  readonly #o: ResolvedKafkaOptions;
  readonly #groupId: string;
  readonly #transactionalId: string;
  readonly #consumer: RdConsumer;
  readonly #partitions: (topic: string) => number;
  readonly #log: Logger;
  #producer: RdProducer | null = null;
  #queue: Queued[] = [];
  #running: Promise<void> | null = null;
  #fatal: Error | null = null;

  /**
   * @param transactionalId unique among live producers and stable across restarts of the same
   *   member (e.g. `<group>.<instanceId>.<n>`): initTransactions fences older producers with it
   */
  constructor(o: ResolvedKafkaOptions, groupId: string, transactionalId: string, consumer: RdConsumer, partitions: (topic: string) => number, log: Logger) {
    this.#o = o;
    this.#groupId = groupId;
    this.#transactionalId = transactionalId;
    this.#consumer = consumer;
    this.#partitions = partitions;
    this.#log = log.child({ transactionalId: this.#transactionalId });
  }

  /**
   * Connects the transactional producer and calls initTransactions (which aborts what an earlier
   * producer with the same transactional id left open).
   * @throws HeraldError HERALD_LOG_BROKER_UNAVAILABLE
   */
  async start(): Promise<void> {
    const { Producer } = loadKafkaClient();
    const p = new Producer({
      ...producerConfig(this.#o, `${this.#o.clientId}-txn`),
      'transactional.id': this.#transactionalId,
      'transaction.timeout.ms': this.#o.transactionTimeoutMs,
    });
    p.on('event.error', (err) => this.#log.warn({ err }, 'kafka transactional producer error'));
    p.setPollInterval(5);
    await connectClient(p, this.#o, 'the transactional producer');
    await call((cb) => p.initTransactions(this.#o.requestTimeoutMs, cb));
    this.#producer = p;
  }

  /**
   * Commits `unit` in the next transaction. Resolves once that transaction committed.
   * Rejects with HERALD_LOG_TRANSACTION_FAILED (aborted: hand the batch again) or HERALD_LOG_FENCED
   * (this member was fenced: stop).
   */
  commit(unit: TransactionUnit): Promise<void> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ unit, resolve, reject });
      this.#running ??= this.#drain().finally(() => (this.#running = null));
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const units = this.#queue;
      this.#queue = [];
      try {
        await this.#transaction(units.map((q) => q.unit));
        for (const q of units) q.resolve();
      } catch (err) {
        for (const q of units) q.reject(err as Error);
      }
    }
  }

  async #transaction(units: TransactionUnit[]): Promise<void> {
    const p = this.#producer;
    if (p === null) throw new HeraldError('HERALD_LOG_CLOSED', 'transactional producer is not started');
    const started = process.hrtime.bigint();
    try {
      await call((cb) => p.beginTransaction(cb));
      const offsets = new Map<string, { topic: string; partition: number; offset: number }>();
      for (const u of units) {
        for (const out of u.outputs) await this.#produce(p, out.topic, out.records);
        const key = `${u.offset.topic}/${u.offset.partition}`;
        const prev = offsets.get(key);
        if (prev === undefined || prev.offset < u.offset.offset) offsets.set(key, u.offset);
      }
      await call((cb) => p.sendOffsetsToTransaction([...offsets.values()], this.#consumer, this.#o.requestTimeoutMs, cb));
      await call((cb) => p.commitTransaction(this.#o.requestTimeoutMs, cb));
      transactions.inc({ group: this.#groupId, result: 'committed' });
      transactionSeconds.observe({ group: this.#groupId }, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (e) {
      const err = e as RdKafkaError;
      transactions.inc({ group: this.#groupId, result: 'aborted' });
      if (isFenced(err)) {
        this.#fatal = new HeraldError('HERALD_LOG_FENCED', `transactional producer ${this.#transactionalId} was fenced: another member owns these partitions now (${err.message})`, { cause: err });
        throw this.#fatal;
      }
      await call((cb) => p.abortTransaction(this.#o.requestTimeoutMs, cb)).catch((abortErr: RdKafkaError) => {
        this.#log.warn({ err: abortErr }, 'abortTransaction failed; re-initialising the transactional producer');
        return this.#restart();
      });
      throw new HeraldError('HERALD_LOG_TRANSACTION_FAILED', `transaction of ${units.length} batch(es) aborted: ${err.message}`, { cause: err });
    }
  }

  /** Replaces a producer left in a fatal state with a new one under the same transactional id. */
  async #restart(): Promise<void> {
    const old = this.#producer;
    this.#producer = null;
    if (old) await call((cb) => old.disconnect(cb)).catch(() => {});
    await this.start();
  }

  async #produce(p: RdProducer, topic: string, records: ProduceRecord[] | EncodedRecords): Promise<void> {
    const n = this.#partitions(topic);
    if (records instanceof Uint8Array) {
      const c = new RecordCursor(records);
      while (c.next()) {
        const key = c.keyBytes();
        const partition = c.partition >= 0 ? c.partition : key === null ? 0 : partitionFor(key, n);
        const ts = c.timestamp;
        await produceWithBackpressure(p, topic, partition, asBuffer(c.valueBytes()), key === null ? null : asBuffer(key), ts > 0 ? ts : null, null);
      }
      return;
    }
    for (const r of records) {
      const partition = r.partition ?? (r.key === null ? 0 : partitionFor(r.key, n));
      await produceWithBackpressure(p, topic, partition, asBuffer(r.value), r.key === null ? null : Buffer.from(r.key, 'utf8'), r.timestamp ?? null, null);
    }
  }

  /** Waits for the transaction in flight, then disconnects. Queued units are rejected. */
  async close(): Promise<void> {
    await this.#running;
    const p = this.#producer;
    this.#producer = null;
    if (p) await call((cb) => p.disconnect(cb)).catch(() => {});
  }
}

function isFenced(err: RdKafkaError): boolean {
  return err.code === RD.FENCED || err.code === RD.PRODUCER_FENCED || err.code === RD.INVALID_PRODUCER_EPOCH || err.isFatal === true;
}
