/**
 * A user's channel settings and preferences:
 * - `PUT /users/{user_id}/channels` `{"email","phone","push"}` → 200 `{"user_id","email","phone","push"}`
 *   (the settings as stored); `GET` → the same shape (a user with none: nulls and `[]`);
 * - `PUT /users/{user_id}/preferences` `{"channels","topics"}` → 200 `{"user_id","channels","topics"}`;
 *   `GET` → the same shape (none stored: `{}` and `{}`).
 *
 * PUT is a full replacement: a field left out is cleared (email/phone null, push [], channels
 * and topics {}), exactly as if sent null; nothing is merged with what was stored. A browser that
 * adds its own push subscription therefore GETs the list and PUTs it back with its own added
 * (a repeated endpoint is kept once, with the newest keys).
 *
 * Validation (400, nothing stored): email → HERALD_EDGE_EMAIL_INVALID, phone →
 * HERALD_EDGE_PHONE_INVALID, push → HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID (malformed, or more
 * than MAX_PUSH_SUBSCRIPTIONS distinct endpoints), preferences → HERALD_EDGE_PREFERENCES_INVALID,
 * a bad user_id in the path → HERALD_EDGE_ID_INVALID.
 */
import { HeraldError } from '../../core/errors.ts';
import { isValidId } from '../../core/ids.ts';
import { isValidEmail } from '../../sinks/channels/email/address.ts';
import { isPushSubscription } from '../../sinks/channels/push/web-push-provider.ts';
import { isE164 } from '../../sinks/channels/sms/http-sms-provider.ts';
import type { PushSubscriptionJson } from '../../sinks/channels/types.ts';
import { MAX_PREFERENCE_TOPICS, MAX_PUSH_SUBSCRIPTIONS, type ChannelToggles, type TopicPreference, type UserChannelSettings, type UserChannelStore, type UserPreferences } from '../../stores/types.ts';
import { dedupPushSubscriptions } from '../../stores/user-channels.ts';
import type { RouteParams, Router } from '../http/router.ts';
import { readJsonBody, sendJson } from '../http/json.ts';
import { requireObject } from '../validate.ts';

/** Body limit of PUT …/channels, bytes: 10 subscriptions of ≤ 2 KiB endpoints fit with room. */
const CHANNELS_BODY_LIMIT_BYTES = 64 * 1024;
/** Body limit of PUT …/preferences, bytes: 1,000 topics of 128-character ids with all four switches fit. */
const PREFERENCES_BODY_LIMIT_BYTES = 256 * 1024;

const CHANNEL_KEYS = ['email', 'sms', 'push'] as const;
const TOPIC_KEYS = ['email', 'sms', 'push', 'in_app'] as const;

/** The user_id path parameter, checked. @throws HeraldError HERALD_EDGE_ID_INVALID */
function userIdOf(params: RouteParams | undefined): string {
  const raw = params?.user_id;
  if (raw === undefined || raw === '' || !isValidId(raw)) {
    throw new HeraldError('HERALD_EDGE_ID_INVALID', `user_id in the path must be 1-128 letters, digits, ".", "_", ":" or "-" (got ${JSON.stringify(raw ?? '').slice(0, 80)}).`);
  }
  return raw;
}

/**
 * Checks a PUT …/channels body (see the module comment).
 * @returns the settings to store (push deduplicated by endpoint, only endpoint and keys kept)
 * @throws HeraldError HERALD_EDGE_BODY_INVALID (not an object, unknown field),
 *   HERALD_EDGE_EMAIL_INVALID, HERALD_EDGE_PHONE_INVALID, HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID
 */
export function parseChannelSettings(body: unknown, allowPrivatePush = false): UserChannelSettings {
  const b = requireObject(body, ['email', 'phone', 'push']);
  const email = b.email ?? null;
  if (email !== null && !isValidEmail(email)) {
    throw new HeraldError('HERALD_EDGE_EMAIL_INVALID', `email must be a plain address like ada@example.com (ASCII, no display name, at most 254 characters), or null (got ${JSON.stringify(email).slice(0, 80)}).`);
  }
  const phone = b.phone ?? null;
  if (phone !== null && (typeof phone !== 'string' || !isE164(phone))) {
    throw new HeraldError('HERALD_EDGE_PHONE_INVALID', `phone must be an E.164 number like +14155550123 (+, then 7-15 digits, no spaces), or null (got ${JSON.stringify(phone).slice(0, 40)}).`);
  }
  const rawPush = b.push ?? [];
  if (!Array.isArray(rawPush)) throw new HeraldError('HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID', 'push must be a list of Web Push subscriptions (PushSubscription.toJSON()), or null.');
  rawPush.forEach((s: unknown, i) => {
    if (!isPushSubscription(s, allowPrivatePush)) {
      throw new HeraldError(
        'HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID',
        `push[${i}] is not a Web Push subscription: send PushSubscription.toJSON(), {"endpoint":"https://<a push service>/…","keys":{"p256dh":"<65 bytes base64url>","auth":"<16 bytes base64url>"}} (endpoints on loopback or private addresses are refused).`,
      );
    }
  });
  const push = dedupPushSubscriptions(rawPush as PushSubscriptionJson[]);
  if (push.length > MAX_PUSH_SUBSCRIPTIONS) {
    throw new HeraldError('HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID', `push has ${push.length} distinct endpoints; the limit is ${MAX_PUSH_SUBSCRIPTIONS} per user: drop the oldest.`);
  }
  return { email, phone, push };
}

function preferencesError(message: string): HeraldError {
  return new HeraldError('HERALD_EDGE_PREFERENCES_INVALID', message);
}

/** An object of boolean switches with only `keys`. @throws HeraldError HERALD_EDGE_PREFERENCES_INVALID */
function switches<K extends string>(value: unknown, keys: readonly K[], where: string): Partial<Record<K, boolean>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw preferencesError(`${where} must be an object of true/false switches (${keys.join(', ')}).`);
  const out: Partial<Record<K, boolean>> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!(keys as readonly string[]).includes(k)) throw preferencesError(`${where} has the unknown switch ${JSON.stringify(k).slice(0, 40)}; the switches are ${keys.join(', ')}.`);
    if (typeof v !== 'boolean') throw preferencesError(`${where}.${k} must be true or false (got ${JSON.stringify(v).slice(0, 40)}).`);
    out[k as K] = v;
  }
  return out;
}

/**
 * Checks a PUT …/preferences body (see the module comment).
 * @throws HeraldError HERALD_EDGE_BODY_INVALID (not an object, unknown field), HERALD_EDGE_PREFERENCES_INVALID
 */
export function parsePreferences(body: unknown): UserPreferences {
  const b = requireObject(body, ['channels', 'topics']);
  const channels: ChannelToggles = b.channels === undefined || b.channels === null ? {} : switches(b.channels, CHANNEL_KEYS, 'channels');
  const rawTopics = b.topics ?? {};
  if (typeof rawTopics !== 'object' || Array.isArray(rawTopics)) throw preferencesError('topics must be an object {"<topic_id>": {"email"|"sms"|"push"|"in_app": true|false}}.');
  const entries = Object.entries(rawTopics as Record<string, unknown>);
  if (entries.length > MAX_PREFERENCE_TOPICS) throw preferencesError(`topics has ${entries.length} entries; the limit is ${MAX_PREFERENCE_TOPICS} topics per user.`);
  const checked = entries.map(([topic, pref]): [string, TopicPreference] => {
    if (!isValidId(topic)) throw preferencesError(`topics has the key ${JSON.stringify(topic).slice(0, 80)}, which is not a topic_id (1-128 letters, digits, ".", "_", ":" or "-").`);
    return [topic, switches(pref, TOPIC_KEYS, `topics[${JSON.stringify(topic)}]`)];
  });
  // fromEntries defines own properties: a topic named `__proto__` stays a topic.
  return { channels, topics: Object.fromEntries(checked) };
}

/**
 * Registers the four routes (see the module comment). Auth: edge/auth/access.ts (user routes,
 * user_id from the path).
 * @param allowPrivatePush accept push endpoints on loopback or private addresses (HERALD_PUSH_ALLOW_PRIVATE_ENDPOINTS)
 */
export function userChannelRoutes(router: Router, store: UserChannelStore, allowPrivatePush = false): void {
  router.on('PUT', '/users/:user_id/channels', async (req, res, _url, params) => {
    const body = await readJsonBody(req, CHANNELS_BODY_LIMIT_BYTES);
    const userId = userIdOf(params);
    const settings = parseChannelSettings(body, allowPrivatePush);
    sendJson(res, 200, { user_id: userId, ...(await store.setChannels(userId, settings)) });
  });
  router.on('GET', '/users/:user_id/channels', async (_req, res, _url, params) => {
    const userId = userIdOf(params);
    sendJson(res, 200, { user_id: userId, ...(await store.channelsOf([userId])).get(userId)! });
  });
  router.on('PUT', '/users/:user_id/preferences', async (req, res, _url, params) => {
    const body = await readJsonBody(req, PREFERENCES_BODY_LIMIT_BYTES);
    const userId = userIdOf(params);
    const prefs = parsePreferences(body);
    sendJson(res, 200, { user_id: userId, ...(await store.setPreferences(userId, prefs)) });
  });
  router.on('GET', '/users/:user_id/preferences', async (_req, res, _url, params) => {
    const userId = userIdOf(params);
    sendJson(res, 200, { user_id: userId, ...(await store.preferencesOf([userId])).get(userId)! });
  });
}
