/**
 * What a profile (embedded, kafka) provides to the job and the edge: the log transport and the
 * stores, behind their interfaces.
 */
import type { LogTransport } from '../../log/types.ts';
import type { StoreSpecs } from '../../operators/task.ts';
import type { InboxWriter } from '../../sinks/edge-delivery/index.ts';
import type { DedupStore, DeliveryStatusStore, IdempotencyStore, InboxStore, PartitionOwnershipStore, PresenceStore, SubscriptionStore, TemplateStore, UserChannelStore } from '../../stores/types.ts';

/** Everything a profile provides to the job and the edge. */
export interface Profile {
  kind: 'embedded' | 'kafka';
  transport: LogTransport;
  /**
   * Which edge owns which user partition (kafka profile: streams are redirected to the owner).
   * Null on the embedded profile, where the one edge owns every partition.
   */
  ownership: PartitionOwnershipStore | null;
  /** Which users have a live stream on some edge (in memory on the embedded profile, Redis on kafka). */
  presence: PresenceStore;
  subscriptions: SubscriptionStore;
  inbox: InboxStore;
  dedup: DedupStore;
  idempotency: IdempotencyStore;
  /** Users' channel settings and preferences (SQLite `user-channels.db`, or MySQL with HERALD_MYSQL_SHARDS). */
  userChannels: UserChannelStore;
  /**
   * Notification templates and per-topic settings: SQLite `templates.db` in the shared store
   * directory, or the first MySQL shard with HERALD_MYSQL_SHARDS.
   */
  templates: TemplateStore;
  /**
   * Per-channel delivery statuses (the once-only record of channel sends, and GET
   * /notifications/{id}/deliveries): SQLite `delivery-status.db` in the shared store directory,
   * or MySQL with HERALD_MYSQL_SHARDS.
   */
  deliveryStatuses: DeliveryStatusStore;
  /** How worker threads open the stores the operators read. */
  storeSpecs: StoreSpecs;
  /**
   * Writers of user-log batches into the inbox (the edge stage's sink), one per inbox shard: the
   * batch of user-log partition p goes to writer p % length. Close them before the profile.
   */
  createInboxWriters(): InboxWriter[];
  close(): Promise<void>;
}

