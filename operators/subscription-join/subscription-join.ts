/**
 * The `subscription-join` operator: attaches to each notification the user_ids subscribed to its
 * topic AT PUBLISH TIME (subscribed_at ≤ published_at, both ms since the epoch), so a user who
 * subscribes after a publish never receives it, also when the batch is processed later.
 * One `SubscriptionStore.subscribersOf` call per batch, for the batch's distinct topic_ids.
 * Notifications without any recipient are dropped here (nothing to fan out).
 * A subscriber who unsubscribed still receives what was published before the unsubscribe
 * (subscribed_at ≤ published_at < unsubscribed_at), even when the batch runs after it.
 */
import { HeraldError } from '../../core/errors.ts';
import type { Subscriber, SubscriptionStore } from '../../stores/types.ts';
import type { BatchContext, ChainRecord, Operator, OperatorInitContext } from '../types.ts';
import { parseSubscriptionJoinOptions, type SubscriptionJoinOptions } from './options.ts';

/** Subscribers of one topic prepared for many records of the batch. */
interface TopicRecipients {
  subscribers: Subscriber[];
  /** All user_ids (shared by records published after every subscription began, none ended). */
  all: string[];
  /** Latest subscribed_at, ms. */
  latestMs: number;
  /** Whether any subscriber has unsubscribed (then `all` is never used). */
  anyEnded: boolean;
}

function prepare(subscribers: Subscriber[]): TopicRecipients {
  const all: string[] = new Array(subscribers.length);
  let latestMs = -Infinity;
  let anyEnded = false;
  for (let i = 0; i < subscribers.length; i++) {
    const s = subscribers[i]!;
    all[i] = s.user_id;
    if (s.subscribed_at > latestMs) latestMs = s.subscribed_at;
    if (s.unsubscribed_at !== undefined) anyEnded = true;
  }
  return { subscribers, all, latestMs, anyEnded };
}

/** The subscription-join operator (see the module comment). */
export class SubscriptionJoinOperator implements Operator {
  readonly options: SubscriptionJoinOptions;
  #subscriptions: SubscriptionStore | null = null;

  /** @throws HeraldError HERALD_TOPOLOGY_INVALID for invalid options */
  constructor(rawOptions: unknown) {
    this.options = parseSubscriptionJoinOptions(rawOptions);
  }

  init(context: OperatorInitContext): void {
    this.#subscriptions = context.stores.subscriptions;
  }

  /**
   * Sets `recipients` on every record; drops records with none.
   * @throws the SubscriptionStore's errors as they are (HERALD_STORE_FAILED)
   */
  async process(batch: ChainRecord[], _context: BatchContext): Promise<ChainRecord[]> {
    if (batch.length === 0) return batch;
    const store = this.#subscriptions;
    if (store === null) throw new HeraldError('HERALD_OPERATOR_FAILED', 'subscription-join: process() before init()');
    const topicIds = new Set<string>();
    for (const r of batch) topicIds.add(r.value.topic_id);
    const found = await store.subscribersOf([...topicIds]);
    const byTopic = new Map<string, TopicRecipients>();
    for (const [topicId, subscribers] of found) {
      if (subscribers.length > 0) byTopic.set(topicId, prepare(subscribers));
    }
    const kept: ChainRecord[] = [];
    for (const record of batch) {
      const topic = byTopic.get(record.value.topic_id);
      if (topic === undefined) continue;
      let recipients: string[];
      // No ended period means one row per user: everyone subscribed since before the publish gets it.
      if (topic.latestMs <= record.publishedAtMs && !topic.anyEnded) {
        recipients = topic.all;
      } else {
        recipients = [];
        const at = record.publishedAtMs;
        // Periods of one user are adjacent (ordered by user_id): add the user once.
        let last: string | null = null;
        for (const s of topic.subscribers) {
          if (s.user_id !== last && s.subscribed_at <= at && (s.unsubscribed_at === undefined || at < s.unsubscribed_at)) {
            recipients.push(s.user_id);
            last = s.user_id;
          }
        }
        if (recipients.length === 0) continue;
      }
      record.recipients = recipients;
      kept.push(record);
    }
    return kept;
  }

  close(): void {
    this.#subscriptions = null;
  }
}
