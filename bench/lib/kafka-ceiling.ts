/**
 * The Kafka ceiling of bench/kafka.bench.ts: what librdkafka (@confluentinc/kafka-javascript) does
 * on this broker with no Herald code in the path. Three measurements on one 12-partition topic:
 * - produce: idempotent producer (acks=all, lz4, linger 5 ms, Herald's queue limits), every
 *   delivery report counted;
 * - consume: a fresh consumer group (read_committed), consume() batches of 1000, offsets committed
 *   asynchronously per batch;
 * - transactional copy: consume-transform-produce of the topic into a second one, one transaction
 *   per consumed batch (~1000 records) with sendOffsetsToTransaction (KIP-98/447), serial.
 * Also the admin calls the benchmark needs (create/delete topics, delete consumer groups).
 */
import { call, loadKafkaClient, RD, type KafkaClientModule, type RdKafkaError as RdError } from '../../log/kafka/client.ts';
import type { KafkaMessage as RdMessage } from '../../log/kafka/batch.ts';
import { resolveKafkaOptions } from '../../log/kafka/options.ts';
import { producerConfig } from '../../log/kafka/producer.ts';

/** The binding's exports (node-rdkafka-style API). */
export type KafkaModule = KafkaClientModule;
type RdProducer = InstanceType<KafkaModule['Producer']>;
type RdConsumer = InstanceType<KafkaModule['KafkaConsumer']>;

const QUEUE_FULL = -184;
const REQUEST_TIMEOUT_MS = 30_000;

/** Loads the librdkafka binding (built for Node 24 by npm run setup:kafka). */
export const kafka = loadKafkaClient;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** librdkafka producer properties of the ceiling: Herald's producerConfig, and Java's murmur2 partitioner. */
export function ceilingProducerConfig(brokers: string, clientId: string): Record<string, string | number | boolean> {
  return { ...producerConfig(resolveKafkaOptions({ brokers }), clientId), partitioner: 'murmur2_random' };
}

/** Consumer properties of the ceiling (read_committed, explicit commits, like Herald's members). */
function consumerConfig(brokers: string, groupId: string): Record<string, string | number | boolean> {
  return {
    'bootstrap.servers': brokers,
    'client.id': `${groupId}-consumer`,
    'group.id': groupId,
    'enable.auto.commit': false,
    'isolation.level': 'read_committed',
    'socket.nagle.disable': true,
  };
}

/** Creates `topic` with `partitions` partitions (replication: the broker's default). */
export async function createTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  const admin = kafka().AdminClient.create({ 'bootstrap.servers': brokers, 'client.id': 'herald-bench-admin' });
  try {
    await call((cb) => admin.createTopic({ topic, num_partitions: partitions, replication_factor: -1 }, REQUEST_TIMEOUT_MS, cb)).catch((err: RdError) => {
      if (err.code !== RD.TOPIC_ALREADY_EXISTS) throw err;
    });
  } finally {
    admin.disconnect();
  }
}

/**
 * Deletes `topics` and consumer groups `groups` that exist (errors are returned, not thrown: this
 * runs in `finally`).
 * @returns what was deleted and what failed
 */
export async function deleteTopicsAndGroups(brokers: string, topics: string[], groups: string[]): Promise<{ topics: string[]; groups: string[]; errors: string[] }> {
  const admin = kafka().AdminClient.create({ 'bootstrap.servers': brokers, 'client.id': 'herald-bench-admin' });
  const out = { topics: [] as string[], groups: [] as string[], errors: [] as string[] };
  try {
    const existing = new Set(await call<string[]>((cb) => admin.listTopics({ timeout: REQUEST_TIMEOUT_MS }, cb)));
    for (const t of topics) {
      if (!existing.has(t)) continue;
      try {
        await call((cb) => admin.deleteTopic(t, REQUEST_TIMEOUT_MS, cb));
        out.topics.push(t);
      } catch (err) {
        out.errors.push(`topic ${t}: ${(err as RdError).message}`);
      }
    }
    if (groups.length > 0) {
      try {
        const results = await call<{ groupId: string; error?: RdError }[]>((cb) => admin.deleteGroups(groups, { timeout: REQUEST_TIMEOUT_MS }, cb));
        for (const r of results) {
          if (r.error) out.errors.push(`group ${r.groupId}: ${r.error.message}`);
          else out.groups.push(r.groupId);
        }
      } catch (err) {
        out.errors.push(`groups: ${(err as RdError).message}`);
      }
    }
  } catch (err) {
    out.errors.push((err as Error).message);
  } finally {
    admin.disconnect();
  }
  return out;
}

/** A rate figure of one ceiling phase. */
export interface PhaseResult {
  records: number;
  seconds: number;
  records_per_second: number;
  mb_per_second: number;
  /** CPU seconds of this (benchmark) process during the phase: librdkafka's threads and JS. */
  client_cpu_seconds: number;
}

function phase(records: number, ms: number, valueBytes: number, cpu: NodeJS.CpuUsage): PhaseResult {
  const seconds = ms / 1000;
  return {
    records,
    seconds: +seconds.toFixed(3),
    records_per_second: Math.round(records / seconds),
    mb_per_second: +((records * valueBytes) / 1e6 / seconds).toFixed(1),
    client_cpu_seconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  };
}

async function produceOne(p: RdProducer, topic: string, value: Buffer, key: Buffer | string | null, partition: number | null, timestamp: number | null): Promise<void> {
  for (;;) {
    try {
      p.produce(topic, partition, value, key, timestamp);
      return;
    } catch (err) {
      if ((err as RdError).code !== QUEUE_FULL) throw err;
      p.poll();
      await sleep(2);
    }
  }
}

/**
 * Produces `n` records of `values[i % values.length]` with keys `user-<i>` to `topic` and waits for
 * every delivery report.
 * @throws the first delivery error, or when not all reports arrive within `timeoutMs`
 */
export async function producePhase(brokers: string, topic: string, n: number, values: Buffer[], timeoutMs = 120_000): Promise<PhaseResult> {
  const p = new (kafka().Producer)({ ...ceilingProducerConfig(brokers, 'herald-bench-produce'), dr_cb: true });
  let delivered = 0;
  let failed: RdError | null = null;
  let allDelivered!: () => void;
  const done = new Promise<void>((r) => (allDelivered = r));
  p.on('delivery-report', (err) => {
    if (err) failed ??= err as unknown as RdError;
    if (++delivered === n) allDelivered();
  });
  await call((cb) => p.connect({ timeout: REQUEST_TIMEOUT_MS }, cb));
  p.setPollInterval(5);
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await produceOne(p, topic, values[i % values.length]!, `user-${i}`, null, null);
      if ((i & 4095) === 4095) await new Promise((r) => setImmediate(r)); // let delivery reports run
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`produce: ${delivered}/${n} delivery reports after ${timeoutMs} ms`)), timeoutMs)));
    await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    const ms = performance.now() - t0;
    if (failed) throw new Error(`produce: delivery failed: ${(failed as RdError).message}`);
    return phase(n, ms, values[0]!.length, process.cpuUsage(cpu0));
  } finally {
    await call((cb) => p.disconnect(cb)).catch(() => {});
  }
}

async function connectConsumer(brokers: string, groupId: string, topic: string): Promise<RdConsumer> {
  const c = new (kafka().KafkaConsumer)(consumerConfig(brokers, groupId), { 'auto.offset.reset': 'earliest' });
  await call((cb) => c.connect({ timeout: REQUEST_TIMEOUT_MS }, cb));
  c.setDefaultConsumeTimeout(100);
  c.subscribe([topic]);
  return c;
}

async function consumeBatch(c: RdConsumer, max: number): Promise<RdMessage[]> {
  try {
    return await call<RdMessage[]>((cb) => c.consume(max, cb as never));
  } catch (err) {
    if ((err as RdError).code === RD.TIMED_OUT) return [];
    throw err;
  }
}

/** A consume phase: the rate counts from the first record received (group join reported apart). */
export interface ConsumeResult extends PhaseResult {
  /** Subscribe to first record, s (group join and first fetch). */
  join_seconds: number;
}

/**
 * Reads `n` records of `topic` in a new consumer group `groupId`, batches of `batch`.
 * @throws when fewer than `n` arrive within `timeoutMs`
 */
export async function consumePhase(brokers: string, topic: string, groupId: string, n: number, valueBytes: number, batch = 1000, timeoutMs = 120_000): Promise<ConsumeResult> {
  const cpu0 = process.cpuUsage();
  const ts = performance.now();
  const c = await connectConsumer(brokers, groupId, topic);
  try {
    let seen = 0;
    let bytes = 0;
    let t0 = 0;
    let cpuFirst = cpu0;
    while (seen < n) {
      if (performance.now() - ts > timeoutMs) throw new Error(`consume: ${seen}/${n} records after ${timeoutMs} ms`);
      const messages = await consumeBatch(c, batch);
      if (messages.length === 0) continue;
      if (t0 === 0) {
        t0 = performance.now();
        cpuFirst = process.cpuUsage();
      }
      seen += messages.length;
      for (const m of messages) bytes += m.value?.length ?? 0;
      const last = new Map<number, number>();
      for (const m of messages) last.set(m.partition, m.offset + 1);
      c.commit([...last].map(([partition, offset]) => ({ topic, partition, offset })));
    }
    const ms = performance.now() - t0;
    if (bytes < n * valueBytes) throw new Error(`consume: ${bytes} bytes, expected ${n * valueBytes}`);
    return { ...phase(seen, ms, valueBytes, process.cpuUsage(cpuFirst)), join_seconds: +((t0 - ts) / 1000).toFixed(3) };
  } finally {
    await call((cb) => c.disconnect(cb)).catch(() => {});
  }
}

/** The transactional copy phase. */
export interface TransactionalResult extends ConsumeResult {
  transactions: number;
  records_per_transaction: number;
  /** Mean begin→commit time of one transaction, ms. */
  mean_transaction_ms: number;
}

/**
 * Copies `n` records of `source` to `target` (same key, partition and timestamp) with a
 * transactional producer: consume a batch, begin, produce it, sendOffsetsToTransaction, commit.
 * One transaction in flight at a time.
 * @throws on any transaction error (the benchmark does not retry), or after `timeoutMs`
 */
export async function transactionalCopyPhase(brokers: string, source: string, target: string, groupId: string, n: number, valueBytes: number, batch = 1000, timeoutMs = 120_000): Promise<TransactionalResult> {
  const cpu0 = process.cpuUsage();
  const ts = performance.now();
  const p = new (kafka().Producer)({
    ...ceilingProducerConfig(brokers, 'herald-bench-txn'),
    'transactional.id': `${groupId}.txn`,
    'transaction.timeout.ms': 60_000,
    dr_cb: true,
  });
  let delivered = 0;
  p.on('delivery-report', (err) => {
    if (!err) delivered++;
  });
  await call((cb) => p.connect({ timeout: REQUEST_TIMEOUT_MS }, cb));
  p.setPollInterval(5);
  await call((cb) => p.initTransactions(REQUEST_TIMEOUT_MS, cb));
  const c = await connectConsumer(brokers, groupId, source);
  try {
    let copied = 0;
    let transactions = 0;
    let txnMs = 0;
    let t0 = 0;
    let cpuFirst = cpu0;
    while (copied < n) {
      if (performance.now() - ts > timeoutMs) throw new Error(`transactional copy: ${copied}/${n} records after ${timeoutMs} ms`);
      const messages = await consumeBatch(c, batch);
      if (messages.length === 0) continue;
      if (t0 === 0) {
        t0 = performance.now();
        cpuFirst = process.cpuUsage();
      }
      const started = performance.now();
      await call((cb) => p.beginTransaction(cb));
      const next = new Map<number, number>();
      for (const m of messages) {
        await produceOne(p, target, m.value ?? Buffer.alloc(0), m.key ?? null, m.partition, m.timestamp ?? null);
        next.set(m.partition, m.offset + 1);
      }
      await call((cb) => p.sendOffsetsToTransaction([...next].map(([partition, offset]) => ({ topic: source, partition, offset })), c, REQUEST_TIMEOUT_MS, cb));
      await call((cb) => p.commitTransaction(REQUEST_TIMEOUT_MS, cb));
      txnMs += performance.now() - started;
      transactions++;
      copied += messages.length;
    }
    const ms = performance.now() - t0;
    // commitTransaction flushed every record; the reports may still be on their way to JS.
    for (let i = 0; i < 100 && delivered < copied; i++) await sleep(10);
    if (delivered < copied) throw new Error(`transactional copy: ${delivered}/${copied} delivery reports`);
    return {
      ...phase(copied, ms, valueBytes, process.cpuUsage(cpuFirst)),
      join_seconds: +((t0 - ts) / 1000).toFixed(3),
      transactions,
      records_per_transaction: Math.round(copied / transactions),
      mean_transaction_ms: +(txnMs / transactions).toFixed(2),
    };
  } finally {
    await call((cb) => c.disconnect(cb)).catch(() => {});
    await call((cb) => p.disconnect(cb)).catch(() => {});
  }
}
