/**
 * The `fanout-pages` sink: splits each record that subscription-join marked `paged` (a topic too
 * large to fan out inline) into one fan-out page record per user-hash bucket on the node's own
 * log: value = the publish record plus `fanout_bucket` and `fanout_buckets` (FanoutPageRecord),
 * key = `topic_id/bucket`, partition = murmur2 of the key like Kafka. A stage reading that log
 * runs subscription-join again per page record, reading only that bucket's subscribers, so
 *
 * - memory is bounded: one page record holds about subscribers / buckets users, never the topic;
 * - the work is spread: the buckets of one publish land on all partitions of the pages log, so
 *   every member of the consumer group takes a share and no single partition carries the topic;
 * - order holds: the same (topic, bucket) always has the same key, hence the same partition, so
 *   one user's notifications of one topic stay in publish order.
 *
 * Records not marked paged are left to the other sinks (routing).
 */
import { HeraldError } from '../../core/errors.ts';
import { partitionFor } from '../../log/murmur2.ts';
import { RecordsEncoder } from '../../log/record-codec.ts';
import type { BatchContext, ChainRecord, Sink, SinkInitContext } from '../../operators/types.ts';
import { partitionCountOf } from '../../operators/user-repartition/route.ts';
import { fanoutPagesOptions, type FanoutPagesOptions } from '../../topology/builtin-types.ts';
import { parseOperatorOptions } from '../../operators/parse-options.ts';

/** Type name of this sink in the topology file and the catalogue. */
export const FANOUT_PAGES_SINK = 'fanout-pages';

/** The fanout-pages sink (see the module comment). */
export class FanoutPagesSink implements Sink {
  readonly options: FanoutPagesOptions;
  #log: string | null = null;
  readonly #encoder = new RecordsEncoder(64 * 1024);

  /** @throws HeraldError HERALD_TOPOLOGY_INVALID for invalid options */
  constructor(rawOptions: unknown) {
    this.options = parseOperatorOptions(FANOUT_PAGES_SINK, fanoutPagesOptions, rawOptions);
  }

  /** @throws HeraldError HERALD_OPERATOR_FAILED when the sink node names no log */
  init(context: SinkInitContext): void {
    if (context.node.log === null) throw new HeraldError('HERALD_OPERATOR_FAILED', `sink ${context.node.name}: a fanout-pages sink needs a log`);
    this.#log = context.node.log;
  }

  /** Appends the page records of the batch's paged records (one buffer) to `context.collector.outputs`. */
  write(batch: ChainRecord[], context: BatchContext): void {
    const log = this.#log!;
    const buckets = this.options.buckets;
    let partitions = 0;
    let out = 0;
    for (const record of batch) {
      if (!record.paged) continue;
      if (partitions === 0) partitions = partitionCountOf(context.partitionCounts, log);
      const v = record.value;
      // The publish record's JSON once; each page record appends its bucket to it.
      const head = JSON.stringify({ id: v.id, topic_id: v.topic_id, message: v.message, published_at: v.published_at, idempotency_key: v.idempotency_key, ...(v.delivery === undefined ? {} : { delivery: v.delivery }) }).slice(0, -1);
      for (let b = 0; b < buckets; b++) {
        const key = `${v.topic_id}/${b}`;
        this.#encoder.add(key, `${head},"fanout_bucket":${b},"fanout_buckets":${buckets}}`, partitionFor(key, partitions), record.timestamp);
      }
      out += buckets;
    }
    if (out === 0) return;
    context.collector.outputs.push({ log, records: this.#encoder.finish() });
    context.collector.stats.recordsOut += out;
  }

  close(): void {}
}
