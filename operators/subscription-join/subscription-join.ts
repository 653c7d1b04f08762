/**
 * The `subscription-join` operator: attaches to each notification the user_ids subscribed to its
 * topic AT PUBLISH TIME (subscribed_at ≤ published_at, both ms since the epoch), so a user who
 * subscribes after a publish never receives it, also when the batch is processed later.
 * One `SubscriptionStore.subscribersOf` call per batch, for the batch's distinct topic_ids.
 * Notifications without any recipient are dropped here (nothing to fan out).
 * A topic's subscribers come in one answer: paging of very large topics needs a paged lookup in
 * the SubscriptionStore interface (planned with the MySQL store).
 */
import { HeraldError } from '../../core/errors.ts';
import type { Subscriber, SubscriptionStore } from '../../stores/types.ts';
import type { BatchContext, ChainRecord, Operator, OperatorInitContext } from '../types.ts';
import { parseSubscriptionJoinOptions, type SubscriptionJoinOptions } from './options.ts';

/** Subscribers of one topic prepared for many records of the batch. */
interface TopicRecipients {
  subscribers: Subscriber[];
  /** All user_ids (shared by records published after every subscription). */
  all: string[];
  /** Latest subscribed_at, ms. */
  latestMs: number;
}

function prepare(subscribers: Subscriber[]): TopicRecipients {
  const all: string[] = new Array(subscribers.length);
  let latestMs = -Infinity;
  for (let i = 0; i < subscribers.length; i++) {
    const s = subscribers[i]!;
    all[i] = s.user_id;
    if (s.subscribed_at > latestMs) latestMs = s.subscribed_at;
  }
  return { subscribers, all, latestMs };
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
      if (topic.latestMs <= record.publishedAtMs) {
        recipients = topic.all;
      } else {
        recipients = [];
        for (const s of topic.subscribers) if (s.subscribed_at <= record.publishedAtMs) recipients.push(s.user_id);
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
