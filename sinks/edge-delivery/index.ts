/**
 * The edge stage's sink: every record of the user log (key = user_id, value = Notification JSON)
 * is stored in the inbox, then written live to the user's open streams on this edge.
 *
 * Exactly-once towards users on top of an at-least-once log: the inbox append is idempotent per
 * (user_id, notification id) and reports which entries are new; only new entries are delivered
 * live, so a replayed user-log record (after a crash before the offset commit) is neither stored
 * twice nor streamed twice. The offset is committed only after the inbox append resolved, so an
 * accepted notification is never lost.
 */
import { HeraldError } from '../../core/errors.ts';
import { counter } from '../../core/metrics.ts';
import type { Notification } from '../../core/types.ts';
import { RecordCursor } from '../../log/record-codec.ts';
import type { FetchedBatch } from '../../log/types.ts';
import type { InboxEntry, InboxStore } from '../../stores/types.ts';

const stored = counter('herald_inbox_stored_total', 'Notifications stored in the inbox (new per user).');
const replays = counter('herald_inbox_replays_total', 'User-log records skipped because the user already had the notification.');
const invalid = counter('herald_edge_records_invalid_total', 'User-log records that could not be decoded.');

/** Live side of delivery: the edge's connection registry implements it. */
export interface LiveDelivery {
  deliver(userId: string, event: { seq: number; id: string; json: string }): void;
}

/** A record of the user log that could not be decoded. */
export interface UndeliverableRecord {
  offset: number;
  key: string | null;
  value: string;
  code: 'HERALD_OPERATOR_RECORD_INVALID';
  message: string;
}

/** Dependencies of {@link EdgeDeliverySink}. */
export interface EdgeDeliveryDeps {
  inbox: InboxStore;
  live: LiveDelivery;
}

function decode(key: string | null, json: string): Notification {
  if (key === null) throw new Error('the record has no key (user_id)');
  const n = JSON.parse(json) as Partial<Notification>;
  if (typeof n !== 'object' || n === null || typeof n.id !== 'string' || typeof n.topic_id !== 'string' || typeof n.published_at !== 'string' || n.message === undefined) {
    throw new Error('the value is not a Notification {id, topic_id, message, published_at}');
  }
  return n as Notification;
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
  async write(batch: FetchedBatch): Promise<UndeliverableRecord[]> {
    const entries: InboxEntry[] = [];
    const jsons: string[] = [];
    const bad: UndeliverableRecord[] = [];
    const cursor = new RecordCursor(batch.encoded);
    while (cursor.next()) {
      const key = cursor.keyString();
      const json = cursor.valueString();
      try {
        entries.push({ user_id: key!, notification: decode(key, json), seq: cursor.offset });
        jsons.push(json);
      } catch (err) {
        invalid.inc();
        bad.push({ offset: cursor.offset, key, value: json, code: 'HERALD_OPERATOR_RECORD_INVALID', message: (err as Error).message });
      }
    }
    if (entries.length === 0) return bad;
    let fresh: boolean[];
    try {
      fresh = await this.#deps.inbox.append(entries);
    } catch (err) {
      throw err instanceof HeraldError ? err : new HeraldError('HERALD_STORE_FAILED', 'The inbox append failed.', { cause: err });
    }
    let n = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!fresh[i]) continue;
      n++;
      this.#deps.live.deliver(e.user_id, { seq: e.seq, id: e.notification.id, json: jsons[i]! });
    }
    stored.inc(n);
    replays.inc(entries.length - n);
    return bad;
  }
}
