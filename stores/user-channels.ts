/**
 * What the SQLite and MySQL {@link UserChannelStore}s share: normalising a write (push
 * subscriptions deduplicated by endpoint, limits checked, only known fields kept) and the empty
 * values returned for users with nothing stored. Pure functions, no I/O.
 */
import type { PushSubscriptionJson } from '../sinks/channels/types.ts';
import { MAX_PREFERENCE_TOPICS, MAX_PUSH_SUBSCRIPTIONS, type ChannelToggles, type TopicPreference, type UserChannelSettings, type UserPreferences } from './types.ts';

/** Settings of a user who has none stored. */
export function emptyChannelSettings(): UserChannelSettings {
  return { email: null, phone: null, push: [] };
}

/** Preferences of a user who has none stored (every channel on by default). */
export function emptyPreferences(): UserPreferences {
  return { channels: {}, topics: {} };
}

/**
 * Push subscriptions with each endpoint once: a repeated endpoint keeps its first position and
 * takes the keys of its last occurrence (the browser re-subscribed). Only `endpoint` and `keys`
 * (`p256dh`, `auth`) are kept.
 */
export function dedupPushSubscriptions(subs: readonly PushSubscriptionJson[]): PushSubscriptionJson[] {
  const byEndpoint = new Map<string, PushSubscriptionJson>();
  for (const s of subs) byEndpoint.set(s.endpoint, { endpoint: s.endpoint, keys: { p256dh: s.keys.p256dh, auth: s.keys.auth } });
  return [...byEndpoint.values()];
}

/**
 * The settings a store keeps for `settings`.
 * @throws RangeError when more than MAX_PUSH_SUBSCRIPTIONS subscriptions remain after dedup
 */
export function normalizeChannelSettings(settings: UserChannelSettings): UserChannelSettings {
  const push = dedupPushSubscriptions(settings.push);
  if (push.length > MAX_PUSH_SUBSCRIPTIONS) throw new RangeError(`at most ${MAX_PUSH_SUBSCRIPTIONS} push subscriptions per user, got ${push.length}`);
  return { email: settings.email ?? null, phone: settings.phone ?? null, push };
}

function toggles<K extends string>(value: Partial<Record<K, boolean>>, keys: readonly K[]): Partial<Record<K, boolean>> {
  const out: Partial<Record<K, boolean>> = {};
  for (const k of keys) if (typeof value[k] === 'boolean') out[k] = value[k];
  return out;
}

const CHANNEL_KEYS = ['email', 'sms', 'push'] as const;
const TOPIC_KEYS = ['email', 'sms', 'push', 'in_app'] as const;

/**
 * The preferences a store keeps for `prefs`: only boolean switches of known keys (unset ones are
 * left out), topics without any switch dropped.
 * @throws RangeError when `topics` has more than MAX_PREFERENCE_TOPICS entries
 */
export function normalizePreferences(prefs: UserPreferences): UserPreferences {
  const entries = Object.entries(prefs.topics ?? {});
  if (entries.length > MAX_PREFERENCE_TOPICS) throw new RangeError(`at most ${MAX_PREFERENCE_TOPICS} topics in preferences, got ${entries.length}`);
  // fromEntries defines own properties: a topic named `__proto__` stays a topic.
  const topics: Record<string, TopicPreference> = Object.fromEntries(
    entries.map(([topic, pref]) => [topic, toggles<keyof TopicPreference>(pref, TOPIC_KEYS)] as const).filter(([, t]) => Object.keys(t).length > 0),
  );
  return { channels: toggles<keyof ChannelToggles>(prefs.channels ?? {}, CHANNEL_KEYS), topics };
}

/** Parses a stored push list (JSON text); a corrupt value reads as no subscriptions. */
export function parsePushJson(text: string | null): PushSubscriptionJson[] {
  if (text === null || text === '') return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as PushSubscriptionJson[]) : [];
  } catch {
    return [];
  }
}

/** Parses stored preferences (JSON text); a missing or corrupt value reads as the defaults. */
export function parsePreferencesJson(text: string | null): UserPreferences {
  if (text === null || text === '') return emptyPreferences();
  try {
    const v = JSON.parse(text) as Partial<UserPreferences>;
    return { channels: v.channels ?? {}, topics: v.topics ?? {} };
  } catch {
    return emptyPreferences();
  }
}
