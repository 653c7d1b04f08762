/**
 * POST /publish `{"topic_id","message"}` [+ `channels`, `content` | `template_id` + `data`,
 * `critical`: edge/channel-request.ts] [+ Idempotency-Key] → 202 `{"id","topic_id","published_at"}`.
 */
import type { Router } from '../http/router.ts';
import { readJsonBody, sendJson } from '../http/json.ts';
import { parseIdempotencyKey, requireId, requireMessage, requireObject } from '../validate.ts';
import { MAX_CONTENT_BYTES, type Publisher } from '../publisher.ts';
import { CHANNEL_FIELDS, parseChannelRequest } from '../channel-request.ts';

/** Registers POST /publish. `maxMessageBytes` bounds the message (413 above it). */
export function publishRoutes(router: Router, publisher: Publisher, maxMessageBytes: number): void {
  // The body may hold the message JSON-escaped (up to 6 bytes per byte) plus the envelope.
  // Channel content may add up to MAX_CONTENT_BYTES (JSON-escaped as well).
  const bodyLimit = Math.max(64 * 1024, maxMessageBytes * 6 + 1024) + MAX_CONTENT_BYTES * 6;
  router.on('POST', '/publish', async (req, res) => {
    const key = parseIdempotencyKey(req.headers['idempotency-key']);
    const body = requireObject(await readJsonBody(req, bodyLimit), ['topic_id', 'message', ...CHANNEL_FIELDS]);
    const topicId = requireId(body.topic_id, 'topic_id', 'body');
    const { message } = requireMessage(body.message, maxMessageBytes);
    const channels = parseChannelRequest(body);
    sendJson(res, 202, await publisher.publish(topicId, message, key, channels));
  });
}
