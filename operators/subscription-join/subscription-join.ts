/**
 * The `subscription-join` operator: attaches to each notification the user_ids subscribed to its
 * topic AT PUBLISH TIME (subscribed_at ≤ published_at < unsubscribed_at, ms since the epoch), so
 * a user who subscribes after a publish never receives it, also when the batch is processed later,
 * and one who unsubscribed still receives what was published before. Records without any
 * recipient are dropped here (nothing to fan out).
 *
 * Three kinds of record:
 * - a publish of a small topic: one `subscribersForFanout` call per batch for the batch's
 *   distinct topic_ids gives the whole subscriber list (at most `max_inline_subscribers`);
 * - a publish of a paged topic (one that ever had more than `max_inline_subscribers` periods):
 *   not loaded; the record is marked `paged` and the stage's `fanout-pages` sink splits it into
 *   one page record per user-hash bucket, spread over the partitions of the pages log;
 * - a page record (`bucket` set, read from the pages log by the next stage): only the subscribers
 *   of that bucket are read, `page_size` periods per round trip (`subscribersInRange`), so
 *   memory per record is one bucket (≈ subscribers / buckets), never the whole topic.
 * A stage without a `fanout-pages` sink cannot page: a paged topic is then read bucket-free in
 * pages (bounded reads) but its recipients are held whole; a warning names the fix.
 */
import { HeraldError } from '../../core/errors.ts';
import { logger } from '../../core/logger.ts';
import { bucketRange, USER_HASH_SPACE, type UserHashRange } from '../../core/user-hash.ts';
import type { Subscriber, SubscriberCursor, SubscriptionStore } from '../../stores/types.ts';
import { FANOUT_PAGES_SINK } from '../../sinks/fanout-pages/fanout-pages-sink.ts';
import type { BatchContext, ChainRecord, Operator, OperatorInitContext } from '../types.ts';
import { parseSubscriptionJoinOptions, type SubscriptionJoinOptions } from './options.ts';

/** Subscribers of one topic (or one bucket of it) prepared for many records of the batch. */
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

/** The recipients of a record published at `publishedAtMs`, or null when nobody. */
function recipientsAt(topic: TopicRecipients, publishedAtMs: number): string[] | null {
  // No ended period means one row per user: everyone subscribed since before the publish gets it.
  if (topic.latestMs <= publishedAtMs && !topic.anyEnded) return topic.all.length > 0 ? topic.all : null;
  const recipients: string[] = [];
  // Periods of one user are adjacent (ordered by user_id, or user hash then user_id): add the user once.
  let last: string | null = null;
  for (const s of topic.subscribers) {
    if (s.user_id !== last && s.subscribed_at <= publishedAtMs && (s.unsubscribed_at === undefined || publishedAtMs < s.unsubscribed_at)) {
      recipients.push(s.user_id);
      last = s.user_id;
    }
  }
  return recipients.length > 0 ? recipients : null;
}

const FULL_RANGE: UserHashRange = { from: 0, to: USER_HASH_SPACE };

/** The subscription-join operator (see the module comment). */
export class SubscriptionJoinOperator implements Operator {
  readonly options: SubscriptionJoinOptions;
  #subscriptions: SubscriptionStore | null = null;
  /** Whether the stage has a fanout-pages sink to hand paged topics to. */
  #canPage = false;
  #stage = '';
  #warned = new Set<string>();

  /** @throws HeraldError HERALD_TOPOLOGY_INVALID for invalid options */
  constructor(rawOptions: unknown) {
    this.options = parseSubscriptionJoinOptions(rawOptions);
  }

  init(context: OperatorInitContext): void {
    this.#subscriptions = context.stores.subscriptions;
    this.#canPage = context.stage.sinks.some((s) => s.type === FANOUT_PAGES_SINK);
    this.#stage = context.stage.name;
  }

  /**
   * Sets `recipients` (or `paged`) on every record; drops records with no recipient.
   * @throws the SubscriptionStore's errors as they are (HERALD_STORE_FAILED)
   */
  async process(batch: ChainRecord[], _context: BatchContext): Promise<ChainRecord[]> {
    if (batch.length === 0) return batch;
    const store = this.#subscriptions;
    if (store === null) throw new HeraldError('HERALD_OPERATOR_FAILED', 'subscription-join: process() before init()');
    const topicIds = new Set<string>();
    let pageRecords = 0;
    for (const r of batch) {
      if (r.bucket === null) topicIds.add(r.value.topic_id);
      else pageRecords++;
    }
    const byTopic = new Map<string, TopicRecipients>();
    let paged: Set<string> = new Set();
    if (topicIds.size > 0) {
      const found = await store.subscribersForFanout([...topicIds], this.options.max_inline_subscribers);
      for (const [topicId, subscribers] of found.inline) if (subscribers.length > 0) byTopic.set(topicId, prepare(subscribers));
      paged = found.paged;
      if (!this.#canPage) {
        // No sink to spread them: read each whole, in bounded pages.
        for (const topicId of paged) {
          this.#warnCannotPage(topicId);
          byTopic.set(topicId, prepare(await this.#readRange(store, topicId, FULL_RANGE)));
        }
        paged = new Set();
      }
    }
    // Page records: one read per distinct (topic, bucket) of the batch, shared by its records.
    const byBucket = pageRecords > 0 ? new Map<string, TopicRecipients>() : null;
    const kept: ChainRecord[] = [];
    for (const record of batch) {
      const topicId = record.value.topic_id;
      let topic: TopicRecipients | undefined;
      if (record.bucket !== null) {
        const key = `${topicId}/${record.bucket.index}/${record.bucket.count}`;
        topic = byBucket!.get(key);
        if (topic === undefined) {
          topic = prepare(await this.#readRange(store, topicId, bucketRange(record.bucket.index, record.bucket.count)));
          byBucket!.set(key, topic);
        }
      } else if (paged.has(topicId)) {
        record.paged = true;
        kept.push(record);
        continue;
      } else {
        topic = byTopic.get(topicId);
      }
      if (topic === undefined) continue;
      const recipients = recipientsAt(topic, record.publishedAtMs);
      if (recipients === null) continue;
      record.recipients = recipients;
      kept.push(record);
    }
    return kept;
  }

  /** Every period of `topicId` in `range`, read `page_size` at a time. */
  async #readRange(store: SubscriptionStore, topicId: string, range: UserHashRange): Promise<Subscriber[]> {
    const out: Subscriber[] = [];
    let after: SubscriberCursor | null = null;
    do {
      const page = await store.subscribersInRange(topicId, range, after, this.options.page_size);
      for (const s of page.subscribers) out.push(s);
      after = page.next;
    } while (after !== null);
    return out;
  }

  #warnCannotPage(topicId: string): void {
    if (this.#warned.has(topicId) || this.#warned.size > 1_000) return;
    this.#warned.add(topicId);
    logger.warn(
      { stage: this.#stage, topic_id: topicId, max_inline_subscribers: this.options.max_inline_subscribers },
      'topic has more subscribers than max_inline_subscribers but this stage has no fanout-pages sink: its whole subscriber list is held in memory; add a fanout-pages sink and a stage reading its log (see jobs/notifications.topology.yaml)',
    );
  }

  close(): void {
    this.#subscriptions = null;
  }
}
