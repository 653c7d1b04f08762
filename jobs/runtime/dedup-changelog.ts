/**
 * The changelog of a stage's dedup confirm store (Kafka Streams' changelog topics): on the kafka
 * profile every confirmation the fan-out stage makes is also appended, inside the batch's Kafka
 * transaction, to `<consumer group>.dedup-changelog`, partitioned like the stage's source log. The
 * confirm store on each instance is local; when a partition is assigned to an instance, its
 * confirmations are restored from the changelog partition before any batch runs, so a record
 * re-read by the new owner is still recognised. The local store is written only after the
 * transaction committed, so it never holds a confirmation the changelog lacks.
 */
import type { LogTopicSpec, LogTransport, ProduceRecord } from '../../log/types.ts';
import { parseBloomDedupOptions } from '../../operators/bloom-dedup/options.ts';
import type { DedupStore } from '../../stores/types.ts';
import type { CompiledStage, CompiledTopology } from '../../topology/types.ts';

/** One confirmation: the dedup key, its source partition and when it was confirmed (ms). */
export interface Confirmation {
  key: string;
  partition: number;
  at: number;
}

/**
 * The changelog log topic of `stage`, or null when none of its operators keeps dedup state.
 * Retention: twice the longest Bloom horizon (windows × window_ms), like the local store's purge.
 */
export function dedupChangelogOf(topology: CompiledTopology, stage: CompiledStage): LogTopicSpec | null {
  let horizonMs = 0;
  for (const op of stage.operators) {
    if (op.type !== 'bloom-dedup') continue;
    const o = parseBloomDedupOptions(op.options);
    horizonMs = Math.max(horizonMs, o.windows * o.window_ms);
  }
  if (horizonMs === 0) return null;
  const source = topology.logs.find((l) => l.name === stage.source.log);
  if (source === undefined) throw new Error(`stage ${stage.name} reads ${stage.source.log}, which the topology does not declare`);
  return { name: `${stage.consumerGroup}.dedup-changelog`, partitions: source.partitions, retentionMs: 2 * horizonMs, compact: true };
}

/** Changelog records of confirmations: key = dedup key, partition = source partition, value = `{"at":ms}`. */
export function encodeConfirmations(confirmations: readonly Confirmation[]): ProduceRecord[] {
  return confirmations.map((c) => ({ key: c.key, partition: c.partition, value: `{"at":${c.at}}`, timestamp: c.at }));
}

/**
 * Replays changelog partition `partition` into the local confirm store (idempotent).
 * @returns confirmations restored
 * @throws the transport's read errors and the store's write errors
 */
export async function restoreConfirmations(transport: LogTransport, changelog: string, partition: number, dedup: DedupStore): Promise<number> {
  return transport.readToEnd(changelog, partition, async (batch) => {
    const entries: Confirmation[] = [];
    for (const r of batch.records()) {
      if (r.key === null) continue;
      let at = r.timestamp;
      try {
        const v = JSON.parse(Buffer.from(r.value).toString('utf8')) as { at?: unknown };
        if (typeof v.at === 'number') at = v.at;
      } catch {
        // a foreign record: keep its key with the record timestamp
      }
      entries.push({ key: Buffer.from(r.key).toString('utf8'), partition, at });
    }
    if (entries.length > 0) await dedup.confirm(entries);
  });
}
