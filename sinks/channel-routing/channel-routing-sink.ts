/**
 * The `channel-routing` sink: for every routed notification whose publish asked for this sink's
 * channel (`PublishRecord.delivery.channels`), one record per recipient on the node's own log
 * (e.g. herald.channel.email): key = user_id, partition = murmur2 of the key like Kafka, value =
 * the {@link ChannelRecord} JSON, encoded once per notification (the user is the key). The
 * channel's stage reads that log, checks each user's address and preferences, and sends.
 *
 * With `priority: critical` (or `bulk`) only critical (or only non-critical) notifications are
 * routed: a channel's critical lane has its own log, so a critical send never waits behind a
 * backlog of bulk sends.
 *
 * Records without `delivery`, without this channel, not fanned out yet (paged: the fanout-pages
 * stage routes them) or without recipients are left to the other sinks.
 */
import { HeraldError } from '../../core/errors.ts';
import { partitionFor } from '../../log/murmur2.ts';
import { RecordsEncoder } from '../../log/record-codec.ts';
import { parseOperatorOptions } from '../../operators/parse-options.ts';
import type { BatchContext, ChainRecord, Sink, SinkInitContext } from '../../operators/types.ts';
import { partitionCountOf } from '../../operators/user-repartition/route.ts';
import { channelRecordOf } from '../channels/channel-record.ts';
import { channelRoutingOptions, type ChannelRoutingOptions } from '../../topology/builtin-types.ts';

/** Type name of this sink in the topology file and the catalogue. */
export const CHANNEL_ROUTING_SINK = 'channel-routing';

const textEncoder = new TextEncoder();

/** The channel-routing sink (see the module comment). */
export class ChannelRoutingSink implements Sink {
  readonly options: ChannelRoutingOptions;
  #log: string | null = null;
  readonly #encoder = new RecordsEncoder(16 * 1024);

  /** @throws HeraldError HERALD_TOPOLOGY_INVALID for invalid options */
  constructor(rawOptions: unknown) {
    this.options = parseOperatorOptions(CHANNEL_ROUTING_SINK, channelRoutingOptions, rawOptions);
  }

  /** @throws HeraldError HERALD_OPERATOR_FAILED when the sink node names no log */
  init(context: SinkInitContext): void {
    if (context.node.log === null) throw new HeraldError('HERALD_OPERATOR_FAILED', `sink ${context.node.name}: a channel-routing sink needs a log`);
    this.#log = context.node.log;
  }

  /** Appends this channel's records of the batch (one buffer) to `context.collector.outputs`. */
  write(batch: ChainRecord[], context: BatchContext): void {
    const log = this.#log!;
    const { channel, priority } = this.options;
    let partitions = 0;
    let out = 0;
    for (const record of batch) {
      const delivery = record.value.delivery;
      if (delivery === undefined || !delivery.channels.includes(channel) || record.paged) continue;
      if ((priority === 'critical' && !delivery.critical) || (priority === 'bulk' && delivery.critical)) continue;
      const recipients = record.recipients;
      if (recipients === null || recipients.length === 0) continue;
      if (partitions === 0) partitions = partitionCountOf(context.partitionCounts, log);
      const value = textEncoder.encode(JSON.stringify(channelRecordOf(record.value, delivery, channel)));
      // The user log's key bytes (UTF-8 user_id) when user-repartition made them; same bytes.
      const keys = record.routed?.keys;
      for (let i = 0; i < recipients.length; i++) {
        const key = keys?.[i] ?? textEncoder.encode(recipients[i]!);
        this.#encoder.add(key, value, partitionFor(key, partitions), record.timestamp);
      }
      out += recipients.length;
    }
    if (out === 0) return;
    context.collector.outputs.push({ log, records: this.#encoder.finish() });
    context.collector.stats.recordsOut += out;
  }

  close(): void {}
}
