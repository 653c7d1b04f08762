/**
 * GET /notifications/{notification_id}/deliveries?user_id=U → 200
 * `{"notification_id","user_id","deliveries":[{"channel","state","attempts","provider_id"?,"last_error"?,"updated_at"}]}`:
 * the per-channel delivery status of one notification for one user (email, SMS, Web Push; one
 * entry per push device when the sends are per device), ordered by channel, then send key.
 * `updated_at` is ISO 8601 UTC with ms; `provider_id` (the provider's message id) and `last_error`
 * (the last failure, or why it was skipped) appear only when known.
 *
 * A notification with no channel send for that user (in-app only, not sent yet, unknown, or past
 * retention) answers 200 with `deliveries: []`, never 404: the edge cannot tell these apart.
 *
 * Validation (400): notification_id not a UUID → HERALD_EDGE_ID_INVALID; user_id missing →
 * HERALD_EDGE_QUERY_INVALID, malformed → HERALD_EDGE_ID_INVALID; an unknown query parameter →
 * HERALD_EDGE_QUERY_INVALID. Access as GET /notifications (edge/auth/access.ts): the user's own
 * token or a publisher key.
 */
import { HeraldError } from '../../core/errors.ts';
import { isNotificationId, isoMs } from '../../core/ids.ts';
import type { DeliveryStatus, DeliveryStatusStore } from '../../stores/types.ts';
import type { RouteParams, Router } from '../http/router.ts';
import { sendJson } from '../http/json.ts';
import { queryParam, requireId } from '../validate.ts';

/** Accepted query parameters (`token`: the user token, read by edge/auth). */
const QUERY_KEYS = new Set(['user_id', 'token']);

/** One entry of `deliveries`. */
export interface DeliveryJson {
  channel: DeliveryStatus['channel'];
  state: DeliveryStatus['state'];
  attempts: number;
  provider_id?: string;
  last_error?: string;
  /** ISO 8601 UTC with ms. */
  updated_at: string;
}

/** A stored status as the API shows it (no key, no ids: they are in the envelope). */
export function deliveryJson(s: DeliveryStatus): DeliveryJson {
  return {
    channel: s.channel,
    state: s.state,
    attempts: s.attempts,
    ...(s.provider_id !== undefined ? { provider_id: s.provider_id } : {}),
    ...(s.last_error !== undefined ? { last_error: s.last_error } : {}),
    updated_at: isoMs(s.updated_at),
  };
}

/** The notification_id path parameter, checked and lower-cased. @throws HeraldError HERALD_EDGE_ID_INVALID */
function notificationIdOf(params: RouteParams | undefined): string {
  const raw = params?.notification_id;
  if (!isNotificationId(raw)) {
    throw new HeraldError('HERALD_EDGE_ID_INVALID', `notification_id in the path must be a notification id, a UUID like 0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9e (got ${JSON.stringify(raw ?? '').slice(0, 80)}).`);
  }
  // Herald writes ids in lower case; UUIDs compare case-insensitively (RFC 9562 §4).
  return raw.toLowerCase();
}

/** Registers GET /notifications/:notification_id/deliveries (see the module comment). */
export function deliveryRoutes(router: Router, store: DeliveryStatusStore): void {
  router.on('GET', '/notifications/:notification_id/deliveries', async (_req, res, url, params) => {
    for (const k of url.searchParams.keys()) {
      if (!QUERY_KEYS.has(k)) throw new HeraldError('HERALD_EDGE_QUERY_INVALID', `Unknown query parameter ${JSON.stringify(k)}; accepted: user_id, token.`);
    }
    const notificationId = notificationIdOf(params);
    const userId = requireId(queryParam(url, 'user_id'), 'user_id', 'query');
    const statuses = await store.deliveriesOf(notificationId, userId); // by channel, then key
    sendJson(res, 200, { notification_id: notificationId, user_id: userId, deliveries: statuses.map(deliveryJson) });
  });
}
