/**
 * The `bloom-dedup` operator: drops replays of a notification (same topic and idempotency key)
 * without ever dropping a new one. Per batch:
 *  1. every record's dedup key is tested-and-added in the partition's windowed Bloom filter;
 *  2. negatives are new; a repeat of a key earlier in the same batch is a duplicate;
 *  3. all positives are checked in ONE `DedupStore.confirmed(keys)` call: confirmed → duplicate
 *     (dropped), not confirmed → false positive (kept, counted);
 *  4. the kept records' keys go to `collector.confirmations`; the runtime writes them to the
 *     DedupStore once the outputs are durable (this operator never writes the store).
 * A batch retried after a crash finds its keys in the filter but not in the store: they count as
 * false positives and are kept (at-least-once, never lost).
 */
import { HeraldError } from '../../core/errors.ts';
import type { BatchContext, ChainRecord, Operator, OperatorInitContext } from '../types.ts';
import type { DedupStore } from '../../stores/types.ts';
import { parseBloomDedupOptions, type BloomDedupOptions } from './options.ts';
import { WindowedBloomFilter } from './windowed-bloom-filter.ts';

/**
 * The dedup key of a record: `topic_id + '\u0000' + (record[keyField] ?? id)`, with keyField the
 * `key` option (default `idempotency_key`). A publish without an Idempotency-Key is keyed by its
 * notification id, so a replay of the same publish record is still dropped. NUL never occurs in
 * a topic_id, so keys of two topics never collide.
 */
export function dedupKey(record: ChainRecord, keyField: string): string {
  const v = record.value;
  const k = keyField === 'idempotency_key' ? v.idempotency_key : (v as unknown as Record<string, unknown>)[keyField];
  return v.topic_id + '\u0000' + (typeof k === 'string' ? k : v.id);
}

/** Filters attached to state buffers, so each buffer's header is read once per thread. */
const filters = new WeakMap<SharedArrayBuffer, WindowedBloomFilter>();

function filterOf(state: SharedArrayBuffer | undefined): WindowedBloomFilter {
  if (state === undefined) throw new HeraldError('HERALD_OPERATOR_FAILED', 'bloom-dedup: no partition state (the runtime must pass createBloomState() buffers)');
  let filter = filters.get(state);
  if (filter === undefined) {
    filter = new WindowedBloomFilter(state);
    filters.set(state, filter);
  }
  return filter;
}

/** The bloom-dedup operator (see the module comment). */
export class BloomDedupOperator implements Operator {
  readonly options: BloomDedupOptions;
  #dedup: DedupStore | null = null;

  /** @throws HeraldError HERALD_TOPOLOGY_INVALID for invalid options */
  constructor(rawOptions: unknown) {
    this.options = parseBloomDedupOptions(rawOptions);
  }

  init(context: OperatorInitContext): void {
    this.#dedup = context.stores.dedup;
  }

  /**
   * @returns the new records (and kept false positives), in input order
   * @throws HeraldError HERALD_OPERATOR_FAILED without partition state; the DedupStore's errors as they are
   */
  async process(batch: ChainRecord[], context: BatchContext): Promise<ChainRecord[]> {
    const filter = filterOf(context.state);
    filter.advanceTo(context.nowMs);
    const keyField = this.options.key;
    const { stats, confirmations } = context.collector;
    const keys: string[] = new Array(batch.length);
    /** 0 = new, 1 = Bloom positive (to confirm), 2 = repeat within this batch. */
    const verdicts = new Uint8Array(batch.length);
    let batchKeys: Set<string> | null = null;
    const positives: string[] = [];
    for (let i = 0; i < batch.length; i++) {
      const key = dedupKey(batch[i]!, keyField);
      keys[i] = key;
      if (!filter.testAndAdd(key)) {
        batchKeys?.add(key);
        continue;
      }
      // Positive: built lazily, the set of this batch's keys tells a repeat from an older key.
      if (batchKeys === null) batchKeys = new Set(keys.slice(0, i));
      if (batchKeys.has(key)) {
        verdicts[i] = 2;
        continue;
      }
      batchKeys.add(key);
      verdicts[i] = 1;
      positives.push(key);
    }
    const confirmed = positives.length > 0 ? await this.#store().confirmed(positives) : null;
    stats.bloomPositives += positives.length;
    const kept: ChainRecord[] = [];
    for (let i = 0; i < batch.length; i++) {
      const verdict = verdicts[i]!;
      const key = keys[i]!;
      if (verdict === 2 || (verdict === 1 && confirmed!.has(key))) {
        stats.duplicates++;
        continue;
      }
      if (verdict === 1) stats.bloomFalsePositives++;
      kept.push(batch[i]!);
      confirmations.push(key);
    }
    return kept;
  }

  #store(): DedupStore {
    if (this.#dedup === null) throw new HeraldError('HERALD_OPERATOR_FAILED', 'bloom-dedup: process() before init()');
    return this.#dedup;
  }

  close(): void {
    this.#dedup = null;
  }
}
