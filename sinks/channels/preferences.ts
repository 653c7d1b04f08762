/**
 * Which channels one notification goes to for one user, from the user's channel settings and
 * preferences (stores/types.ts `UserChannelSettings`, `UserPreferences`). Pure: the channel
 * workers load settings and preferences in batches (`UserChannelStore.channelsOf` /
 * `preferencesOf`) and call these per (notification, user).
 *
 * The rule, per requested channel:
 * 1. no address for it (email null, phone null, no push subscription) → not sent, even when
 *    critical (there is nowhere to send);
 * 2. critical (the topic or the publish is marked critical) → sent, whatever the mutes;
 * 3. the topic's switch for the channel, when set, decides;
 * 4. else the user's global switch for the channel, when set;
 * 5. else sent (channels are on by default once an address exists).
 */
import type { UserChannelSettings, UserPreferences } from '../../stores/types.ts';
import type { ChannelName } from './types.ts';

/** Whether `settings` holds an address for `channel`. */
export function hasAddress(settings: UserChannelSettings, channel: ChannelName): boolean {
  switch (channel) {
    case 'email':
      return settings.email !== null && settings.email !== '';
    case 'sms':
      return settings.phone !== null && settings.phone !== '';
    case 'push':
      return settings.push.length > 0;
  }
}

/**
 * The channels to actually send to, in the order of `requested` (each once).
 * @param settings the user's addresses; null = none stored (nothing is sent)
 * @param prefs the user's preferences; null = none stored (defaults: everything on)
 * @param topicId the notification's topic
 * @param requested the channels the publish asked for
 * @param critical the topic or publish is critical: mutes are ignored (an address is still needed)
 */
export function channelsFor(
  settings: UserChannelSettings | null,
  prefs: UserPreferences | null,
  topicId: string,
  requested: readonly ChannelName[],
  critical: boolean,
): ChannelName[] {
  if (settings === null) return [];
  const out: ChannelName[] = [];
  for (const channel of new Set(requested)) {
    if (!hasAddress(settings, channel)) continue;
    if (critical || switchOf(prefs, topicId, channel)) out.push(channel);
  }
  return out;
}

/**
 * Whether the user wants `topicId` in their inbox and live streams (`in_app`): the topic's
 * `in_app` switch, default true; always true when critical. (Stored for the in-app path; the
 * fan-out does not consult it yet.)
 */
export function wantsInApp(prefs: UserPreferences | null, topicId: string, critical: boolean): boolean {
  if (critical || prefs === null) return true;
  return own(prefs.topics, topicId)?.in_app ?? true;
}

/** The topic's own switch for one channel (rule 3), or undefined when the topic does not set it. */
export function topicSwitchOf(prefs: UserPreferences | null, topicId: string, channel: ChannelName): boolean | undefined {
  return prefs === null ? undefined : own(prefs.topics, topicId)?.[channel];
}

/** The effective switch of one channel for one topic (rules 3–5). */
function switchOf(prefs: UserPreferences | null, topicId: string, channel: ChannelName): boolean {
  if (prefs === null) return true;
  return topicSwitchOf(prefs, topicId, channel) ?? prefs.channels[channel] ?? true;
}

/** `record[key]` only when it is the record's own property (a topic named `__proto__` or `toString` is just a topic). */
function own<V>(record: Record<string, V>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
