/** channelsFor / wantsInApp: which channels a notification goes to for one user. */
import { describe, expect, it } from 'vitest';
import { channelsFor, hasAddress, wantsInApp } from '../../../sinks/channels/preferences.ts';
import type { UserChannelSettings, UserPreferences } from '../../../stores/types.ts';

const SUB = { endpoint: 'https://push.example.com/1', keys: { p256dh: 'p', auth: 'a' } };
const ALL: UserChannelSettings = { email: 'ada@example.com', phone: '+14155550123', push: [SUB] };
const NONE: UserPreferences = { channels: {}, topics: {} };
const EVERY = ['email', 'sms', 'push'] as const;

describe('channelsFor', () => {
  it('sends to every requested channel with an address by default, in the requested order, each once', () => {
    expect(channelsFor(ALL, NONE, 'news', EVERY, false)).toEqual(['email', 'sms', 'push']);
    expect(channelsFor(ALL, null, 'news', ['push', 'email', 'push'], false)).toEqual(['push', 'email']);
    expect(channelsFor(ALL, NONE, 'news', [], false)).toEqual([]);
  });

  it('never sends without an address, not even when critical', () => {
    const emailOnly = { email: 'ada@example.com', phone: null, push: [] };
    expect(channelsFor(emailOnly, NONE, 'news', EVERY, false)).toEqual(['email']);
    expect(channelsFor(emailOnly, NONE, 'news', EVERY, true)).toEqual(['email']);
    expect(channelsFor(null, NONE, 'news', EVERY, true)).toEqual([]);
    expect(channelsFor({ email: null, phone: null, push: [] }, null, 'news', EVERY, true)).toEqual([]);
  });

  it('a global mute silences a channel for every topic; a topic switch overrides it both ways', () => {
    const prefs: UserPreferences = { channels: { email: false, sms: true }, topics: { orders: { email: true }, promo: { sms: false, push: false } } };
    expect(channelsFor(ALL, prefs, 'news', EVERY, false)).toEqual(['sms', 'push']);
    expect(channelsFor(ALL, prefs, 'orders', EVERY, false)).toEqual(['email', 'sms', 'push']);
    expect(channelsFor(ALL, prefs, 'promo', EVERY, false)).toEqual([]);
  });

  it('critical ignores every mute', () => {
    const muted: UserPreferences = { channels: { email: false, sms: false, push: false }, topics: { alerts: { email: false, sms: false, push: false, in_app: false } } };
    expect(channelsFor(ALL, muted, 'alerts', EVERY, false)).toEqual([]);
    expect(channelsFor(ALL, muted, 'alerts', EVERY, true)).toEqual(['email', 'sms', 'push']);
    expect(channelsFor(ALL, muted, 'other', ['sms'], true)).toEqual(['sms']);
  });

  it('topic ids are matched exactly (no prototype keys, case-sensitive)', () => {
    const prefs: UserPreferences = { channels: {}, topics: { News: { email: false } } };
    expect(channelsFor(ALL, prefs, 'news', ['email'], false)).toEqual(['email']);
    expect(channelsFor(ALL, prefs, 'News', ['email'], false)).toEqual([]);
    expect(channelsFor(ALL, prefs, '__proto__', EVERY, false)).toEqual(['email', 'sms', 'push']);
    expect(channelsFor(ALL, prefs, 'toString', EVERY, false)).toEqual(['email', 'sms', 'push']);
  });
});

describe('hasAddress / wantsInApp', () => {
  it('hasAddress follows the settings', () => {
    expect(EVERY.map((c) => hasAddress(ALL, c))).toEqual([true, true, true]);
    expect(EVERY.map((c) => hasAddress({ email: null, phone: '', push: [] }, c))).toEqual([false, false, false]);
  });

  it('wantsInApp: the topic switch, default true, always true when critical', () => {
    const prefs: UserPreferences = { channels: { email: false }, topics: { promo: { in_app: false }, news: { email: true } } };
    expect(wantsInApp(prefs, 'promo', false)).toBe(false);
    expect(wantsInApp(prefs, 'promo', true)).toBe(true);
    expect(wantsInApp(prefs, 'news', false)).toBe(true);
    expect(wantsInApp(null, 'promo', false)).toBe(true);
  });
});
