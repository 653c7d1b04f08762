/**
 * The `routing` sink: writes each routed notification as one user-log record per recipient
 * (key = user_id, value = the notification's shared JSON bytes, partition chosen upstream by
 * user-repartition, timestamp = the source record's) into one record-codec buffer per log.
 * The buffers own their ArrayBuffers (RecordsEncoder.finish), so the worker transfers them.
 * A record that reaches the sink unrouted is routed here to the sink's own log.
 */
import { HeraldError } from '../../core/errors.ts';
import { RecordsEncoder } from '../../log/record-codec.ts';
import type { BatchContext, ChainRecord, Sink, SinkInitContext } from '../../operators/types.ts';
import { partitionCountOf, routeRecord } from '../../operators/user-repartition/route.ts';

/** The routing sink (see the module comment). */
export class RoutingSink implements Sink {
  #log: string | null = null;
  /** One encoder per destination log, reused across batches (capacity kept). */
  readonly #encoders = new Map<string, RecordsEncoder>();

  /** @throws HeraldError HERALD_OPERATOR_FAILED when the sink node names no log */
  init(context: SinkInitContext): void {
    if (context.node.log === null) throw new HeraldError('HERALD_OPERATOR_FAILED', `sink ${context.node.name}: a routing sink needs a log`);
    this.#log = context.node.log;
  }

  #encoder(log: string): RecordsEncoder {
    let encoder = this.#encoders.get(log);
    if (encoder === undefined) {
      encoder = new RecordsEncoder(256 * 1024);
      this.#encoders.set(log, encoder);
    }
    return encoder;
  }

  /** Appends one buffer per destination log to `context.collector.outputs`; adds to stats.recordsOut. */
  write(batch: ChainRecord[], context: BatchContext): void {
    const { collector } = context;
    const used = new Set<RecordsEncoder>();
    let out = 0;
    for (const record of batch) {
      if (record.routed === null) {
        if (record.recipients === null || record.recipients.length === 0) continue;
        const log = this.#log!;
        routeRecord(record, log, partitionCountOf(context.partitionCounts, log));
      }
      const { log, value, partitions, keys } = record.routed!;
      const encoder = this.#encoder(log);
      used.add(encoder);
      for (let i = 0; i < keys.length; i++) encoder.add(keys[i]!, value, partitions[i]!, record.timestamp);
      out += keys.length;
    }
    for (const [log, encoder] of this.#encoders) if (used.has(encoder)) collector.outputs.push({ log, records: encoder.finish() });
    collector.stats.recordsOut += out;
  }

  close(): void {
    this.#encoders.clear();
  }
}
