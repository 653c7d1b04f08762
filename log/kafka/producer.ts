/**
 * The idempotent Kafka producer behind {@link LogProducer} (KIP-98 idempotence: no duplicates or
 * reordering from librdkafka's own retries; acks=all). Partitions are chosen here with Herald's
 * murmur2 (log/murmur2.ts), so a key lands on the same partition number as on the embedded log
 * and in any Java client.
 */
import { HeraldError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { partitionFor } from '../murmur2.ts';
import { RecordCursor, type EncodedRecords } from '../record-codec.ts';
import type { LogProducer, ProduceRecord, RecordMetadata } from '../types.ts';
import { call, loadKafkaClient, type RdKafkaError } from './client.ts';
import type { ResolvedKafkaOptions } from './options.ts';

type RdProducer = InstanceType<ReturnType<typeof loadKafkaClient>['Producer']>;

/** librdkafka's "local queue full" error: wait for deliveries, then produce again. */
const QUEUE_FULL = -184;

/** One `send` call waiting for its delivery reports. */
interface Pending {
  remaining: number;
  results: RecordMetadata[] | null;
  error: RdKafkaError | null;
  resolve: () => void;
}

/** librdkafka properties shared by Herald's producers. */
export function producerConfig(o: ResolvedKafkaOptions, clientId: string): Record<string, string | number | boolean> {
  return {
    'bootstrap.servers': o.brokers,
    'client.id': clientId,
    'enable.idempotence': true,
    acks: 'all',
    'linger.ms': o.lingerMs,
    'compression.type': 'lz4',
    'queue.buffering.max.messages': 200_000,
    'queue.buffering.max.kbytes': 131_072,
    'message.max.bytes': 4_194_304,
    'socket.nagle.disable': true,
    ...o.extra,
  };
}

/** Connects a librdkafka client, rejecting with HERALD_LOG_BROKER_UNAVAILABLE on timeout. */
export function connectClient(client: { connect(opts: any, cb: (err: any) => void): unknown }, o: ResolvedKafkaOptions, what: string): Promise<void> {
  return call<void>((cb) => client.connect({ timeout: o.requestTimeoutMs }, cb)).catch((err: RdKafkaError) => {
    throw new HeraldError('HERALD_LOG_BROKER_UNAVAILABLE', `${what} could not reach the Kafka brokers ${o.brokers} within ${o.requestTimeoutMs} ms: ${err.message}. Start them (scripts/services.sh up kafka) or fix HERALD_KAFKA_BROKERS.`, { cause: err });
  });
}

/** Produces `value` with librdkafka, waiting while its local queue is full. */
export async function produceWithBackpressure(p: RdProducer, topic: string, partition: number, value: Buffer, key: Buffer | null, timestamp: number | null, opaque: unknown): Promise<void> {
  for (;;) {
    try {
      p.produce(topic, partition, value, key, timestamp, opaque);
      return;
    } catch (err) {
      if ((err as RdKafkaError).code !== QUEUE_FULL) throw err;
      p.poll();
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** Views bytes as a Buffer without copying. */
export function asBuffer(b: Uint8Array | string): Buffer {
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** See {@link LogProducer}. */
export class KafkaProducer implements LogProducer {
  readonly #p: RdProducer;
  readonly #o: ResolvedKafkaOptions;
  readonly #partitions: (topic: string) => number;
  readonly #ready: Promise<void>;
  #closing: Promise<void> | null = null;

  /**
   * @param partitions partition count of a log topic (throws HERALD_LOG_TOPIC_UNKNOWN)
   */
  constructor(o: ResolvedKafkaOptions, partitions: (topic: string) => number, log: Logger) {
    const { Producer } = loadKafkaClient();
    this.#o = o;
    this.#partitions = partitions;
    this.#p = new Producer({ ...producerConfig(o, `${o.clientId}-producer`), dr_cb: true });
    this.#p.on('delivery-report', (err, report) => {
      const pending = report.opaque as { p: Pending; i: number } | undefined;
      if (pending === undefined) return;
      const { p, i } = pending;
      if (err) p.error ??= err as unknown as RdKafkaError;
      else if (p.results) p.results[i] = { topic: report.topic, partition: report.partition, offset: Number(report.offset) };
      if (--p.remaining === 0) p.resolve();
    });
    this.#p.on('event.error', (err) => log.warn({ err }, 'kafka producer error'));
    this.#p.setPollInterval(5);
    this.#ready = connectClient(this.#p, o, 'the Kafka producer');
    this.#ready.catch(() => {});
  }

  /**
   * Partition count of `topic` from the cluster metadata; 0 when the topic does not exist (yet).
   * @throws HeraldError HERALD_LOG_BROKER_UNAVAILABLE
   */
  async partitionsOf(topic: string, timeoutMs: number): Promise<number> {
    await this.#ready;
    try {
      const md = await call<{ topics: { name: string; partitions: unknown[] }[] }>((cb) => this.#p.getMetadata({ topic, timeout: timeoutMs }, cb as never));
      return md.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    } catch (err) {
      throw new HeraldError('HERALD_LOG_BROKER_UNAVAILABLE', `metadata of ${topic} from ${this.#o.brokers}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Resolves when connected. @throws HeraldError HERALD_LOG_BROKER_UNAVAILABLE */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Appends `records`; resolves with their partitions and offsets once acknowledged by all
   * in-sync replicas. Rejects with HERALD_LOG_APPEND_FAILED (librdkafka delivery error),
   * HERALD_LOG_TOPIC_UNKNOWN or HERALD_LOG_CLOSED.
   */
  async send(topic: string, records: ProduceRecord[]): Promise<RecordMetadata[]> {
    this.#open();
    await this.#ready;
    const n = this.#partitions(topic);
    const results = new Array<RecordMetadata>(records.length);
    await this.#deliver(records.length, results, async (pending) => {
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const partition = r.partition ?? (r.key === null ? 0 : partitionFor(r.key, n));
        await produceWithBackpressure(this.#p, topic, partition, asBuffer(r.value), r.key === null ? null : Buffer.from(r.key, 'utf8'), r.timestamp ?? null, { p: pending, i });
      }
    }, topic);
    return results;
  }

  /** Appends framed entries (partition -1 → murmur2 of the key; timestamp 0 → now). Same errors as `send`. */
  async sendEncoded(topic: string, records: EncodedRecords): Promise<void> {
    this.#open();
    await this.#ready;
    const n = this.#partitions(topic);
    const c = new RecordCursor(records);
    let count = 0;
    while (c.next()) count++;
    await this.#deliver(count, null, async (pending) => {
      const cur = new RecordCursor(records);
      let i = 0;
      while (cur.next()) {
        const key = cur.keyBytes();
        const partition = cur.partition >= 0 ? cur.partition : key === null ? 0 : partitionFor(key, n);
        const ts = cur.timestamp;
        await produceWithBackpressure(this.#p, topic, partition, asBuffer(cur.valueBytes()), key === null ? null : asBuffer(key), ts > 0 ? ts : null, { p: pending, i: i++ });
      }
    }, topic);
  }

  async #deliver(count: number, results: RecordMetadata[] | null, produceAll: (p: Pending) => Promise<void>, topic: string): Promise<void> {
    if (count === 0) return;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const pending: Pending = { remaining: count, results, error: null, resolve };
    try {
      await produceAll(pending);
    } catch (err) {
      throw new HeraldError('HERALD_LOG_APPEND_FAILED', `producing to ${topic} failed: ${(err as Error).message}`, { cause: err });
    }
    await done;
    if (pending.error) throw new HeraldError('HERALD_LOG_APPEND_FAILED', `append to ${topic} failed: ${pending.error.message}`, { cause: pending.error });
  }

  /** Flushes queued records and disconnects; later sends reject with HERALD_LOG_CLOSED. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#ready;
      } catch {
        return;
      }
      await call((cb) => this.#p.flush(this.#o.requestTimeoutMs, cb)).catch(() => {});
      await call((cb) => this.#p.disconnect(cb)).catch(() => {});
    })();
    return this.#closing;
  }

  #open(): void {
    if (this.#closing !== null) throw new HeraldError('HERALD_LOG_CLOSED', 'kafka producer is closed');
  }
}
