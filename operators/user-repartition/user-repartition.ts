/**
 * The `user-repartition` operator: re-keys each notification by recipient (key = user_id) for
 * the user log, choosing each recipient's partition like Kafka's default partitioner (murmur2)
 * and encoding the Notification JSON once per notification ({@link routeRecord}). The records
 * themselves are written by the stage's routing sink.
 */
import { HeraldError } from '../../core/errors.ts';
import type { BatchContext, ChainRecord, Operator, OperatorInitContext } from '../types.ts';
import { parseUserRepartitionOptions, type UserRepartitionOptions } from './options.ts';
import { partitionCountOf, repartitionLogOf, routeRecord } from './route.ts';

/** The user-repartition operator (see the module comment). */
export class UserRepartitionOperator implements Operator {
  readonly options: UserRepartitionOptions;
  #log = '';

  /** @throws HeraldError HERALD_TOPOLOGY_INVALID for invalid options or a key other than `user_id` */
  constructor(rawOptions: unknown) {
    this.options = parseUserRepartitionOptions(rawOptions);
    if (this.options.key !== 'user_id') {
      throw new HeraldError('HERALD_TOPOLOGY_INVALID', `user-repartition options: key: only "user_id" is supported (recipients are users), got "${this.options.key}"`);
    }
  }

  /** @throws HeraldError HERALD_OPERATOR_FAILED when the stage has no sink writing a log */
  init(context: OperatorInitContext): void {
    this.#log = repartitionLogOf(context.stage);
  }

  /**
   * Sets `routed` on every record with recipients; keeps records marked `paged` as they are (the
   * fanout-pages sink splits them); drops the others.
   * @throws HeraldError HERALD_OPERATOR_FAILED when the task carries no partition count for the log
   */
  process(batch: ChainRecord[], context: BatchContext): ChainRecord[] {
    const partitions = partitionCountOf(context.partitionCounts, this.#log);
    const kept: ChainRecord[] = [];
    for (const record of batch) {
      if (record.paged) {
        kept.push(record);
        continue;
      }
      if (record.recipients === null || record.recipients.length === 0) continue;
      routeRecord(record, this.#log, partitions);
      kept.push(record);
    }
    return kept;
  }

  close(): void {}
}
