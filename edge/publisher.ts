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
 *
 * Channels: a publish that asks for email, SMS or push carries `delivery` on its record, with the
 * content already rendered here (a stored template with the publish's `data`) and `critical` set
 * when the publish or its topic is critical, so a bad template fails the publish (400) instead of
 * a send later, and every recipient gets the same text.
 */
import { createHash } from 'node:crypto';
import { HeraldError } from '../core/errors.ts';
import { isoMs, newNotificationId } from '../core/ids.ts';
import { counter } from '../core/metrics.ts';
import type { ChannelContent, Message, PublishDelivery, PublishRecord } from '../core/types.ts';
import type { LogProducer } from '../log/types.ts';
import { renderTemplate } from '../sinks/channels/templates/render.ts';
import type { IdempotencyStore, TemplateStore } from '../stores/types.ts';
import type { ChannelRequest } from './channel-request.ts';

/** Largest channel content of one publish (JSON of every channel's content), bytes: it is copied into one record per recipient. */
export const MAX_CONTENT_BYTES = 64 * 1024;
/** The delivery part of an in-app-only publish to a critical topic. */
const CRITICAL_IN_APP: PublishDelivery = { channels: [], critical: true, content: {}, template_id: null };
const settingsUnread = counter('herald_publish_topic_settings_unread_total', 'In-app publishes accepted as not critical because the topic settings could not be read.');

/** How long a topic's `critical` setting is cached by an edge, ms (a change takes effect within it). */
const TOPIC_SETTINGS_TTL_MS = 5_000;
/** Most topics whose settings an edge caches. */
const TOPIC_SETTINGS_CACHE = 10_000;

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
  /** Templates and topic settings; absent: template_id is refused and no topic is critical. */
  templates?: TemplateStore;
}

/** Appends publishes to the publish log. */
export class Publisher {
  readonly #deps: PublisherDeps;
  /** topic_id → its `critical` setting and when it was read (ms, performance.now()). */
  readonly #critical = new Map<string, { critical: boolean; at: number }>();

  constructor(deps: PublisherDeps) {
    this.#deps = deps;
  }

  /**
   * Publishes `message` to `topicId`.
   * @throws HeraldError HERALD_LOG_APPEND_FAILED / HERALD_STORE_FAILED (retriable: nothing accepted),
   *   HERALD_EDGE_IDEMPOTENCY_KEY_REUSED (the key was used for another message on this topic)
   */
  async publish(topicId: string, message: Message, idempotencyKey: string | null, channels: ChannelRequest | null = null): Promise<PublishReceipt> {
    // In-app only: the record still says when the topic is critical, so in-app mutes cannot hide it.
    const delivery = channels !== null ? await this.#delivery(topicId, channels) : (await this.#inAppTopicCritical(topicId)) ? CRITICAL_IN_APP : undefined;
    const { id, publishedAtMs } = newNotificationId();
    let receipt: PublishReceipt = { id, topic_id: topicId, published_at: isoMs(publishedAtMs) };
    if (idempotencyKey !== null) {
      // In-app publishes keep the fingerprint of the message alone (as before channels existed).
      // Channels as a set: ["sms","email"] and ["email","sms"] are the same publish.
      const fingerprinted = channels === null ? message : { message, channels: { ...channels, channels: [...channels.channels].sort() } };
      const fingerprint = createHash('sha256').update(canonicalJson(fingerprinted)).digest('hex');
      const { record, created } = await this.#deps.idempotency.claim(topicId, idempotencyKey, {
        id,
        published_at: receipt.published_at,
        state: 'pending',
        fingerprint,
      });
      if (!created && record.fingerprint !== '' && record.fingerprint !== fingerprint) {
        throw new HeraldError(
          'HERALD_EDGE_IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key ${JSON.stringify(idempotencyKey)} was first used on topic ${topicId} with a different message${channels === null ? '' : ' or channel fields (channels, content, template_id, data, critical)'} (notification ${record.id}); use a new key for a new message.`,
        );
      }
      receipt = { id: record.id, topic_id: topicId, published_at: record.published_at };
      if (!created && record.state === 'appended') {
        published.inc({ replay: 'true' });
        return receipt;
      }
    }
    const value: PublishRecord = { ...receipt, message, idempotency_key: idempotencyKey, ...(delivery === undefined ? {} : { delivery }) };
    try {
      await this.#deps.producer.send(this.#deps.publishLog, [{ key: topicId, value: JSON.stringify(value) }]);
    } catch (err) {
      throw err instanceof HeraldError ? err : new HeraldError('HERALD_LOG_APPEND_FAILED', 'The publish could not be appended; retry with the same Idempotency-Key.', { cause: err });
    }
    if (idempotencyKey !== null) await this.#deps.idempotency.markAppended(topicId, idempotencyKey);
    published.inc({ replay: 'false' });
    return receipt;
  }

  /**
   * The record's channel part: content rendered from the template (or as given), critical from
   * the publish or the topic.
   * @throws HeraldError HERALD_EDGE_TEMPLATE_NOT_FOUND, HERALD_EDGE_TEMPLATE_RENDER_FAILED,
   *   HERALD_EDGE_CONTENT_TOO_LARGE, or the template store's errors
   */
  async #delivery(topicId: string, request: ChannelRequest): Promise<PublishDelivery> {
    let content: ChannelContent = request.content ?? {};
    const templates = this.#deps.templates;
    if (request.template_id !== null) {
      const template = templates === undefined ? null : await templates.getTemplate(request.template_id);
      if (template === null) {
        throw new HeraldError('HERALD_EDGE_TEMPLATE_NOT_FOUND', `No template ${JSON.stringify(request.template_id)}: create it with PUT /templates/${request.template_id}, or send content instead.`);
      }
      const missing = request.channels.filter((c) => template.content[c] === undefined);
      if (missing.length > 0) {
        throw new HeraldError('HERALD_EDGE_CHANNELS_INVALID', `Template ${JSON.stringify(request.template_id)} has no ${missing.join(' or ')} content: add it to the template (PUT /templates/${request.template_id}), or leave ${missing.join(', ')} out of channels.`);
      }
      content = renderTemplate(template, { ...request.data, topic_id: topicId }, request.channels);
    }
    const bytes = Buffer.byteLength(JSON.stringify(content));
    if (bytes > MAX_CONTENT_BYTES) {
      throw new HeraldError('HERALD_EDGE_CONTENT_TOO_LARGE', `The channel content is ${bytes} bytes of JSON; the limit is ${MAX_CONTENT_BYTES} (it is copied to every recipient). Shorten it, or link to the long version.`);
    }
    const critical = request.critical || (await this.#topicCritical(topicId));
    return { channels: request.channels, critical, content, template_id: request.template_id };
  }

  /**
   * {@link #topicCritical} for an in-app-only publish, which must not fail because the settings
   * store is down: then it counts as not critical (only users who muted the topic in-app miss it).
   */
  async #inAppTopicCritical(topicId: string): Promise<boolean> {
    try {
      return await this.#topicCritical(topicId);
    } catch {
      settingsUnread.inc();
      return false;
    }
  }

  /** Whether the topic is marked critical (cached {@link TOPIC_SETTINGS_TTL_MS}). */
  async #topicCritical(topicId: string): Promise<boolean> {
    const templates = this.#deps.templates;
    if (templates === undefined) return false;
    const now = performance.now();
    const hit = this.#critical.get(topicId);
    if (hit !== undefined && now - hit.at < TOPIC_SETTINGS_TTL_MS) return hit.critical;
    const { critical } = await templates.topicSettings(topicId);
    if (this.#critical.size >= TOPIC_SETTINGS_CACHE) this.#critical.delete(this.#critical.keys().next().value!);
    this.#critical.set(topicId, { critical, at: now });
    return critical;
  }
}
