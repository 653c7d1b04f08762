/**
 * The edge stage's sink: every record of the user log (key = user_id, value = Notification JSON)
 * is stored in the inbox, then written live to the user's open streams on this edge, except the
 * notifications the user muted in-app for their topic (unless critical; in-app-mutes.ts).
 *
 * Exactly-once towards users on top of an at-least-once log: the inbox append is idempotent per
 * (user_id, notification id) and reports which records are new; only new ones are delivered
 * live, so a replayed user-log record (after a crash before the offset commit) is neither stored
 * twice nor streamed twice. The offset is committed only after the inbox append resolved, so an
 * accepted notification is never lost.
 */
import { uuidV7Timestamp } from '../../core/ids.ts';
import { counter, histogram } from '../../core/metrics.ts';
import { RecordCursor } from '../../log/record-codec.ts';
import type { FetchedBatch } from '../../log/types.ts';
import type { UndecodableRecord } from './decode-user-records.ts';
import { RECORD_STORED, type InboxWriter } from './inbox-writer.ts';
import { clientJson, inAppMutedRecords, withoutRecords, type PreferencesReader } from './in-app-mutes.ts';

export { createInProcessInboxWriter, createThreadedInboxWriter, type InboxWriter, type InboxWriterStoreSpec } from './inbox-writer.ts';
export type { UndecodableRecord } from './decode-user-records.ts';
export type { PreferencesReader } from './in-app-mutes.ts';

const stored = counter('herald_inbox_stored_total', 'Notifications stored in the inbox (new per user).');
const replays = counter('herald_inbox_replays_total', 'User-log records skipped because the user already had the notification.');
const liveLatency = histogram('herald_delivery_latency_seconds', 'Publish (id time) to the live stream write (SSE or WebSocket), per delivered event.', [], [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
]);
const invalid = counter('herald_edge_records_invalid_total', 'User-log records that could not be decoded.');
const muted = counter('herald_inbox_muted_total', 'Notifications not stored or streamed because the user muted the topic in-app (preferences).');

/** Live side of delivery: the edge's connection registry implements it. */
export interface LiveDelivery {
  /** True when the user has an open stream on this edge. */
  isConnected(userId: string): boolean;
  deliver(userId: string, event: { seq: number; id: string; json: string }): void;
}

/** Dependencies of {@link EdgeDeliverySink}. */
export interface EdgeDeliveryDeps {
  /**
   * Inbox writers; the batch of user-log partition p goes to writers[p % length] (one writer per
   * inbox shard, users sharded by their user-log partition).
   */
  writers: InboxWriter[];
  live: LiveDelivery;
  /**
   * The users' preferences, for in-app mutes (in-app-mutes.ts): a muted notification is neither
   * stored nor streamed. Absent: every record is delivered.
   */
  preferencesOf?: PreferencesReader;
}

const ID_PREFIX = '{"id":"';

/**
 * The notification id of a user-log value. The fan-out writes `id` first (a UUID, no escapes),
 * so it is read without parsing; anything else is parsed.
 */
export function notificationIdOf(json: string): string {
  if (json.startsWith(ID_PREFIX)) {
    const end = json.indexOf('"', ID_PREFIX.length);
    const id = end > ID_PREFIX.length ? json.slice(ID_PREFIX.length, end) : '';
    if (id !== '' && !id.includes('\\')) return id;
  }
  return (JSON.parse(json) as { id: string }).id;
}

/** Stores a batch of user-log records in the inbox and streams the new ones live. */
export class EdgeDeliverySink {
  readonly #deps: EdgeDeliveryDeps;

  constructor(deps: EdgeDeliveryDeps) {
    this.#deps = deps;
  }

  /**
   * Handles one batch of one user-log partition.
   * @returns the records that could not be decoded (the caller sends them to the DLQ)
   * @throws HeraldError HERALD_STORE_FAILED when the inbox append fails (nothing is committed;
   *   the batch is handed again)
   */
  async write(batch: FetchedBatch): Promise<UndecodableRecord[]> {
    const writers = this.#deps.writers;
    const mask = this.#deps.preferencesOf === undefined ? null : await inAppMutedRecords(batch.encoded, this.#deps.preferencesOf);
    let records = batch.encoded;
    let count = batch.count;
    if (mask !== null) {
      records = withoutRecords(batch.encoded, mask);
      const dropped = mask.reduce((a, b) => a + b, 0);
      muted.inc(dropped);
      count -= dropped;
    }
    const result = await writers[batch.partition % writers.length]!.write(records);
    const { outcome } = result;
    const cursor = new RecordCursor(records);
    let n = 0;
    for (let i = 0; cursor.next(); i++) {
      if (outcome[i] !== RECORD_STORED) continue;
      n++;
      const userId = cursor.keyString()!;
      if (!this.#deps.live.isConnected(userId)) continue;
      const json = clientJson(cursor.valueString());
      const id = notificationIdOf(json);
      this.#deps.live.deliver(userId, { seq: cursor.offset, id, json });
      liveLatency.observe(Math.max(0, Date.now() - uuidV7Timestamp(id)) / 1000);
    }
    stored.inc(n);
    replays.inc(count - n - result.invalid.length);
    invalid.inc(result.invalid.length);
    return result.invalid;
  }
}
