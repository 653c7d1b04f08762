/**
 * Accepting a publish: assign a UUIDv7 id, honour the Idempotency-Key, and append the record to
 * the publish log (key = topic_id). A publish is accepted only once its record is durable on
 * the log; the fan-out stage does the rest.
 *
 * Idempotency: the key is claimed in the IdempotencyStore before the append ('pending') and
 * marked 'appended' after. A retry that finds 'appended' gets the first answer and appends
 * nothing. A retry that finds 'pending' (the first attempt died between claim and append, or is
 * still in flight) appends the record again with the FIRST id; the fan-out stage's Bloom dedup,
 * keyed by (topic_id, idempotency key), drops the second copy. So every answered id is delivered
 * exactly once and no key ever yields two notifications. Keys are scoped per topic; a key reused
 * on the same topic with a different message is refused (422), so no message is dropped silently.
 */
import { createHash } from 'node:crypto';
import { HeraldError } from '../core/errors.ts';
import { isoMs, newNotificationId } from '../core/ids.ts';
import { counter } from '../core/metrics.ts';
import type { Message, PublishRecord } from '../core/types.ts';
import type { LogProducer } from '../log/types.ts';
import type { IdempotencyStore } from '../stores/types.ts';

const published = counter('herald_publish_total', 'Publishes accepted (202), by whether they were idempotent replays.', ['replay']);

/**
 * JSON with object keys sorted, so the same message with its keys in another order has the same
 * fingerprint. Messages nest at most 32 levels (edge/validate.ts), so recursion is bounded.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The 202 answer of POST /publish. */
export interface PublishReceipt {
  id: string;
  topic_id: string;
  published_at: string;
}

/** Dependencies of {@link Publisher}. */
export interface PublisherDeps {
  producer: LogProducer;
  idempotency: IdempotencyStore;
  /** Name of the publish log topic. */
  publishLog: string;
}

/** Appends publishes to the publish log. */
export class Publisher {
  readonly #deps: PublisherDeps;

  constructor(deps: PublisherDeps) {
    this.#deps = deps;
  }

  /**
   * Publishes `message` to `topicId`.
   * @throws HeraldError HERALD_LOG_APPEND_FAILED / HERALD_STORE_FAILED (retriable: nothing accepted),
   *   HERALD_EDGE_IDEMPOTENCY_KEY_REUSED (the key was used for another message on this topic)
   */
  async publish(topicId: string, message: Message, idempotencyKey: string | null): Promise<PublishReceipt> {
    const { id, publishedAtMs } = newNotificationId();
    let receipt: PublishReceipt = { id, topic_id: topicId, published_at: isoMs(publishedAtMs) };
    if (idempotencyKey !== null) {
      const fingerprint = createHash('sha256').update(canonicalJson(message)).digest('hex');
      const { record, created } = await this.#deps.idempotency.claim(topicId, idempotencyKey, {
        id,
        published_at: receipt.published_at,
        state: 'pending',
        fingerprint,
      });
      if (!created && record.fingerprint !== '' && record.fingerprint !== fingerprint) {
        throw new HeraldError(
          'HERALD_EDGE_IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key ${JSON.stringify(idempotencyKey)} was first used on topic ${topicId} with a different message (notification ${record.id}); use a new key for a new message.`,
        );
      }
      receipt = { id: record.id, topic_id: topicId, published_at: record.published_at };
      if (!created && record.state === 'appended') {
        published.inc({ replay: 'true' });
        return receipt;
      }
    }
    const value: PublishRecord = { ...receipt, message, idempotency_key: idempotencyKey };
    try {
      await this.#deps.producer.send(this.#deps.publishLog, [{ key: topicId, value: JSON.stringify(value) }]);
    } catch (err) {
      throw err instanceof HeraldError ? err : new HeraldError('HERALD_LOG_APPEND_FAILED', 'The publish could not be appended; retry with the same Idempotency-Key.', { cause: err });
    }
    if (idempotencyKey !== null) await this.#deps.idempotency.markAppended(topicId, idempotencyKey);
    published.inc({ replay: 'false' });
    return receipt;
  }
}
