/**
 * The Kafka log transport: Herald's log topics on Apache Kafka through librdkafka
 * (@confluentinc/kafka-javascript). Topics are created with the topology's partition counts and
 * retention; every key is partitioned with murmur2 exactly like the embedded log and Kafka's
 * Java clients; consumers are cooperative-sticky group members reading read_committed.
 */
import { HeraldError } from '../../core/errors.ts';
import { logger as rootLogger, type Logger } from '../../core/logger.ts';
import type { ConsumerOptions, FetchedBatch, LogConsumer, LogProducer, LogTopicSpec, LogTransport } from '../types.ts';
import { call, loadKafkaClient, RD, type RdKafkaError } from './client.ts';
import { KafkaLogConsumer } from './consumer.ts';
import { resolveKafkaOptions, type KafkaTransportOptions, type ResolvedKafkaOptions } from './options.ts';
import { readPartitionToEnd } from './partition-reader.ts';
import { KafkaProducer } from './producer.ts';

const DEFAULT_RETENTION_MS = 7 * 86_400_000; // ms: 7 days

/** See the module comment. */
export class KafkaLogTransport implements LogTransport {
  readonly kind = 'kafka' as const;
  readonly options: ResolvedKafkaOptions;
  readonly #log: Logger;
  readonly #partitions = new Map<string, number>();
  readonly #consumers = new Set<KafkaLogConsumer>();
  readonly #producers = new Set<LogProducer>();
  readonly #txnMembers = new Map<string, number>();
  #shared: KafkaProducer | null = null;
  #closing: Promise<void> | null = null;

  constructor(options: KafkaTransportOptions, log: Logger = rootLogger) {
    this.options = resolveKafkaOptions(options);
    this.#log = log.child({ transport: 'kafka' });
    loadKafkaClient();
  }

  /**
   * Creates missing log topics (num_partitions, replication factor, retention.ms and any
   * `cleanup.policy`), then learns every topic's partition count from the cluster metadata. An
   * existing topic is left as it is; when its partition count differs from the spec, start-up
   * stops (keys would move to other partitions).
   * @throws HeraldError HERALD_LOG_BROKER_UNAVAILABLE, HERALD_CONFIG_INVALID (partition mismatch)
   */
  async ensureTopics(specs: LogTopicSpec[]): Promise<void> {
    this.#assertOpen();
    const { AdminClient } = loadKafkaClient();
    const admin = AdminClient.create({ 'bootstrap.servers': this.options.brokers, 'client.id': `${this.options.clientId}-admin`, ...this.options.extra });
    try {
      for (const spec of specs) {
        const config: Record<string, string> = { 'retention.ms': String(spec.retentionMs ?? DEFAULT_RETENTION_MS) };
        if (spec.compact) config['cleanup.policy'] = 'compact,delete';
        try {
          await call((cb) => admin.createTopic({ topic: spec.name, num_partitions: spec.partitions, replication_factor: this.options.replicationFactor, config }, this.options.requestTimeoutMs, cb));
          this.#log.info({ topic: spec.name, partitions: spec.partitions }, 'log topic created');
        } catch (err) {
          const e = err as RdKafkaError;
          if (e.code === RD.TOPIC_ALREADY_EXISTS) continue;
          throw new HeraldError('HERALD_LOG_BROKER_UNAVAILABLE', `creating log topic ${spec.name} on ${this.options.brokers} failed: ${e.message}`, { cause: err });
        }
      }
    } finally {
      admin.disconnect();
    }
    await this.#learnPartitions(specs);
  }

  async #learnPartitions(specs: LogTopicSpec[]): Promise<void> {
    const producer = this.#sharedProducer();
    await producer.ready();
    const deadline = Date.now() + this.options.requestTimeoutMs;
    for (const spec of specs) {
      for (;;) {
        const n = await producer.partitionsOf(spec.name, this.options.requestTimeoutMs);
        if (n > 0) {
          if (n !== spec.partitions) {
            throw new HeraldError('HERALD_CONFIG_INVALID', `log topic ${spec.name} exists with ${n} partitions but the topology says ${spec.partitions}: changing a partition count moves keys between partitions. Set partitions: ${n} in the topology file, or migrate to a new log topic name.`);
          }
          this.#partitions.set(spec.name, n);
          break;
        }
        if (Date.now() > deadline) throw new HeraldError('HERALD_LOG_BROKER_UNAVAILABLE', `log topic ${spec.name} did not appear in the cluster metadata within ${this.options.requestTimeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** @throws HeraldError HERALD_LOG_TOPIC_UNKNOWN when `ensureTopics` has not seen the topic */
  partitionCount(topic: string): number {
    const n = this.#partitions.get(topic);
    if (n === undefined) throw new HeraldError('HERALD_LOG_TOPIC_UNKNOWN', `log topic ${topic} is not known to this process: list it in the topology (ensureTopics runs at start-up)`);
    return n;
  }

  /** A handle on the transport's one idempotent producer (librdkafka batches across callers). */
  createProducer(): LogProducer {
    this.#assertOpen();
    const shared = this.#sharedProducer();
    let closed = false;
    const handle: LogProducer = {
      send: (topic, records) => (closed ? Promise.reject(new HeraldError('HERALD_LOG_CLOSED', 'log producer is closed')) : shared.send(topic, records)),
      sendEncoded: (topic, records) => (closed ? Promise.reject(new HeraldError('HERALD_LOG_CLOSED', 'log producer is closed')) : shared.sendEncoded(topic, records)),
      close: async () => {
        closed = true;
        this.#producers.delete(handle);
      },
    };
    this.#producers.add(handle);
    return handle;
  }

  /** A member of consumer group `options.groupId`. */
  createConsumer(options: ConsumerOptions): LogConsumer {
    this.#assertOpen();
    const consumer = new KafkaLogConsumer(options, {
      options: this.options,
      partitions: (t) => this.partitionCount(t),
      producer: this.#sharedProducer(),
      log: this.#log,
      transactionalId: (groupId) => {
        const n = this.#txnMembers.get(groupId) ?? 0;
        this.#txnMembers.set(groupId, n + 1);
        return `${groupId}.${this.options.instanceId}.${n}`;
      },
      forget: (c) => this.#consumers.delete(c),
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  /** See {@link LogTransport.readToEnd} (assign mode, read_committed). */
  readToEnd(topic: string, partition: number, onBatch: (batch: FetchedBatch) => Promise<void> | void): Promise<number> {
    this.#assertOpen();
    return readPartitionToEnd(this.options, topic, partition, onBatch);
  }

  /** Closes consumers (commit, leave), then flushes and closes the producer. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#consumers].map((c) => c.close()));
      for (const p of this.#producers) await p.close();
      await this.#shared?.close();
    })();
    return this.#closing;
  }

  #sharedProducer(): KafkaProducer {
    this.#shared ??= new KafkaProducer(this.options, (t) => this.partitionCount(t), this.#log);
    return this.#shared;
  }

  #assertOpen(): void {
    if (this.#closing !== null) throw new HeraldError('HERALD_LOG_CLOSED', 'kafka transport is closed');
  }
}

/**
 * Opens the Kafka transport (loads librdkafka; connects lazily).
 * @throws HeraldError HERALD_LOG_CLIENT_MISSING, HERALD_CONFIG_INVALID
 */
export function createKafkaTransport(options: KafkaTransportOptions, log?: Logger): KafkaLogTransport {
  return new KafkaLogTransport(options, log);
}
