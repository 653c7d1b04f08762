/** POST /subscribe and DELETE /subscribe `{"topic_id","user_id"}` → 200 `{"topic_id","user_id"}`. */
import type { Router } from '../http/router.ts';
import { readJsonBody, sendJson } from '../http/json.ts';
import { requireId, requireObject } from '../validate.ts';
import type { SubscriptionStore } from '../../stores/types.ts';

/** Body size limit of subscription requests, bytes. */
const BODY_LIMIT_BYTES = 4096;

/** Registers the subscription routes. Both are idempotent. */
export function subscriptionRoutes(router: Router, subscriptions: SubscriptionStore): void {
  const parse = async (req: Parameters<Parameters<Router['on']>[2]>[0]) => {
    const body = requireObject(await readJsonBody(req, BODY_LIMIT_BYTES), ['topic_id', 'user_id']);
    return { topic_id: requireId(body.topic_id, 'topic_id', 'body'), user_id: requireId(body.user_id, 'user_id', 'body') };
  };
  router.on('POST', '/subscribe', async (req, res) => {
    const sub = await parse(req);
    await subscriptions.subscribe(sub.topic_id, sub.user_id, Date.now());
    sendJson(res, 200, sub);
  });
  router.on('DELETE', '/subscribe', async (req, res) => {
    const sub = await parse(req);
    await subscriptions.unsubscribe(sub.topic_id, sub.user_id, Date.now());
    sendJson(res, 200, sub);
  });
}
