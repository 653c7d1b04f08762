/**
 * A DeliveryStatusStore in process memory: the embedded profile's (one process, nothing to share)
 * and the channel worker's tests'. Same rules as the SQLite store (stores/sqlite/delivery-status-store.ts):
 * upsert by key, a final state (sent, failed, gone, skipped) is never overwritten by a later
 * record, `deliveriesOf` lists one notification's channels for one user ordered by channel, then key.
 * Statuses are copied in and out, so a caller mutating its objects never changes the store.
 */
import type { DeliveryState, DeliveryStatus, DeliveryStatusStore } from '../../stores/types.ts';

/** The final delivery states: once recorded, a key never changes again. */
export const FINAL_DELIVERY_STATES: ReadonlySet<DeliveryState> = new Set<DeliveryState>(['sent', 'failed', 'gone', 'skipped']);

/** Whether `state` is final (sent, failed, gone, skipped). */
export function isFinalDeliveryState(state: DeliveryState): boolean {
  return FINAL_DELIVERY_STATES.has(state);
}

/** {@link DeliveryStatusStore} in memory (see the module comment). */
export class MemoryDeliveryStatusStore implements DeliveryStatusStore {
  readonly #byKey = new Map<string, DeliveryStatus>();
  /** `<notification_id>\u0000<user_id>` → keys, for deliveriesOf. */
  readonly #byNotification = new Map<string, Set<string>>();
  #closed = false;

  /** Statuses of many keys; absent keys are not in the map. */
  async statusOf(keys: readonly string[]): Promise<Map<string, DeliveryStatus>> {
    this.#open();
    const out = new Map<string, DeliveryStatus>();
    for (const key of keys) {
      const s = this.#byKey.get(key);
      if (s !== undefined) out.set(key, { ...s });
    }
    return out;
  }

  /** Upserts by key; a stored final state is kept (the later record is ignored). */
  async record(statuses: readonly DeliveryStatus[]): Promise<void> {
    this.#open();
    for (const s of statuses) {
      const old = this.#byKey.get(s.key);
      if (old !== undefined && isFinalDeliveryState(old.state)) continue;
      this.#byKey.set(s.key, { ...s });
      const nk = notificationKey(s.notification_id, s.user_id);
      let set = this.#byNotification.get(nk);
      if (set === undefined) this.#byNotification.set(nk, (set = new Set()));
      set.add(s.key);
    }
  }

  /** Every channel status of one notification for one user, ordered by channel, then key. */
  async deliveriesOf(notificationId: string, userId: string): Promise<DeliveryStatus[]> {
    this.#open();
    const keys = this.#byNotification.get(notificationKey(notificationId, userId));
    if (keys === undefined) return [];
    const out: DeliveryStatus[] = [];
    for (const k of keys) {
      const s = this.#byKey.get(k);
      if (s !== undefined) out.push({ ...s });
    }
    return out.sort((a, b) => compare(a.channel, b.channel) || compare(a.key, b.key));
  }

  /** Turns `failed` statuses of `sends` back into `retrying` (a DLQ replay); returns how many. */
  async reopen(sends: readonly { key: string; user_id: string }[], reason: string, nowMs: number): Promise<number> {
    this.#open();
    let n = 0;
    for (const { key } of sends) {
      const s = this.#byKey.get(key);
      if (s === undefined || s.state !== 'failed') continue;
      this.#byKey.set(key, { ...s, state: 'retrying', last_error: reason, updated_at: nowMs });
      n++;
    }
    return n;
  }

  /** Deletes statuses last changed before `beforeMs`; returns how many. */
  async purge(beforeMs: number): Promise<number> {
    this.#open();
    let n = 0;
    for (const [key, s] of this.#byKey) {
      if (s.updated_at >= beforeMs) continue;
      this.#byKey.delete(key);
      const nk = notificationKey(s.notification_id, s.user_id);
      const set = this.#byNotification.get(nk);
      set?.delete(key);
      if (set?.size === 0) this.#byNotification.delete(nk);
      n++;
    }
    return n;
  }

  /** Drops everything; later calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#byKey.clear();
    this.#byNotification.clear();
  }

  #open(): void {
    if (this.#closed) throw new Error('MemoryDeliveryStatusStore is closed');
  }
}

/** Byte order of UTF-8, like SQLite's BINARY collation and MySQL's VARBINARY. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function notificationKey(notificationId: string, userId: string): string {
  return `${notificationId}\u0000${userId}`;
}
