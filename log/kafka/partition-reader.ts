/**
 * Reads one partition from its earliest retained offset to its end, outside any consumer group
 * (assign mode, read_committed): the restore path of changelog-backed state stores, like Kafka
 * Streams' restore consumer.
 */
import { HeraldError } from '../../core/errors.ts';
import type { FetchedBatch } from '../types.ts';
import { kafkaBatch, type KafkaMessage } from './batch.ts';
import { call, loadKafkaClient, RD, type CooperativeConsumer, type RdKafkaError } from './client.ts';
import type { ResolvedKafkaOptions } from './options.ts';
import { connectClient } from './producer.ts';

/** librdkafka's logical offset "earliest retained". */
const OFFSET_BEGINNING = -2;

/**
 * See {@link LogTransport.readToEnd}. The end is the high watermark when the read starts; with
 * read_committed the last records below it may be transaction markers or aborted records, so the
 * read also ends at librdkafka's partition EOF (which stops at the last stable offset).
 * @throws HeraldError HERALD_LOG_BROKER_UNAVAILABLE when the broker does not answer
 */
export async function readPartitionToEnd(o: ResolvedKafkaOptions, topic: string, partition: number, onBatch: (batch: FetchedBatch) => Promise<void> | void): Promise<number> {
  const { KafkaConsumer } = loadKafkaClient();
  const c = new KafkaConsumer(
    {
      'bootstrap.servers': o.brokers,
      'client.id': `${o.clientId}-restore`,
      'group.id': `${o.clientId}-restore-unused`, // required by librdkafka; never joined (assign mode, no commits)
      'enable.auto.commit': false,
      'enable.partition.eof': true,
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': 10,
      ...o.extra,
    },
    {},
  ) as InstanceType<typeof KafkaConsumer> & CooperativeConsumer;
  await connectClient(c, o, `restoring ${topic}/${partition}`);
  try {
    const w = await call<{ highOffset: number; lowOffset: number }>((cb) => c.queryWatermarkOffsets(topic, partition, o.requestTimeoutMs, cb));
    if (w.highOffset <= w.lowOffset) return 0;
    let eof = false;
    c.on('partition.eof', (e: { topic: string; partition: number }) => {
      if (e.topic === topic && e.partition === partition) eof = true;
    });
    c.assign([{ topic, partition, offset: OFFSET_BEGINNING }]);
    c.setDefaultConsumeTimeout(100);
    c.setDefaultIsTimeoutOnlyForFirstMessage(true);
    let read = 0;
    let next = w.lowOffset;
    const deadline = Date.now() + o.requestTimeoutMs * 4;
    while (next < w.highOffset && !eof) {
      if (Date.now() > deadline) throw new HeraldError('HERALD_LOG_BROKER_UNAVAILABLE', `restoring ${topic}/${partition} did not reach offset ${w.highOffset} (at ${next})`);
      let messages: KafkaMessage[];
      try {
        messages = await call<KafkaMessage[]>((cb) => c.consume(1000, cb));
      } catch (err) {
        if ((err as RdKafkaError).code === RD.TIMED_OUT) continue;
        throw new HeraldError('HERALD_LOG_BROKER_UNAVAILABLE', `restoring ${topic}/${partition}: ${(err as RdKafkaError).message}`, { cause: err });
      }
      const mine = messages.filter((m) => m.topic === topic && m.partition === partition && m.offset < w.highOffset);
      if (mine.length === 0) continue;
      await onBatch(kafkaBatch(mine, w.highOffset));
      read += mine.length;
      next = mine[mine.length - 1]!.offset + 1;
    }
    return read;
  } finally {
    await call((cb) => c.disconnect(cb)).catch(() => {});
  }
}
