/** Planning sends from channel records: address and preference checks, keys, per-device push, defaults. */
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../../core/types.ts';
import { channelRecordOf, parseChannelRecord, type ChannelRecord } from '../../../sinks/channels/channel-record.ts';
import { contentFor } from '../../../sinks/channels/content.ts';
import { sendJobsFor, sendKey } from '../../../sinks/channels/send-jobs.ts';
import type { UserChannelSettings, UserPreferences } from '../../../stores/types.ts';

const ID = '0192f3c4-5b6a-7000-8000-000000000001';
const NOW = 1_800_000_000_000;
const sub = (n: number) => ({ endpoint: `https://push.example/device-${n}`, keys: { p256dh: 'p'.repeat(87), auth: 'a'.repeat(22) } });

function record(channel: ChannelRecord['channel'], critical = false, topic = 'orders'): ChannelRecord {
  const content = channel === 'email' ? { subject: 'S', text: 'T' } : channel === 'sms' ? { text: 'T' } : { title: 'S', body: 'T' };
  return { notification_id: ID, topic_id: topic, published_at: new Date(NOW).toISOString(), channel, critical, content, template_id: null };
}

const settings = new Map<string, UserChannelSettings>([
  ['ada', { email: 'ada@example.com', phone: '+14155550100', push: [sub(1), sub(2)] }],
  ['bob', { email: null, phone: null, push: [] }],
]);
const prefs = new Map<string, UserPreferences>([
  ['ada', { channels: { sms: false }, topics: { orders: { email: false } } }],
  ['bob', { channels: {}, topics: {} }],
]);

describe('sendJobsFor', () => {
  it('builds one job per user with the address as recipient and the send key as idempotency key', () => {
    const { jobs, skipped } = sendJobsFor([['ada', record('email', false, 'news')]], settings, prefs, { pushTtlSeconds: 60 }, NOW);
    expect(skipped).toEqual([]);
    expect(jobs).toEqual([
      {
        key: `${ID}:ada:email`,
        notification_id: ID,
        user_id: 'ada',
        channel: 'email',
        topic_id: 'news',
        attempt: 1,
        not_before_ms: 0,
        critical: false,
        recipient: 'ada@example.com',
        message: { key: `${ID}:ada:email`, to: 'ada@example.com', subject: 'S', text: 'T' },
      },
    ]);
  });

  it('skips a muted channel (topic switch, then global switch) unless critical, and a missing address always', () => {
    const muted = sendJobsFor([['ada', record('email')], ['ada', record('sms')], ['bob', record('email', true)]], settings, prefs, { pushTtlSeconds: 60 }, NOW);
    expect(muted.jobs).toEqual([]);
    expect(muted.skipped.map((s) => [s.key, s.state, s.last_error])).toEqual([
      [`${ID}:ada:email`, 'skipped', 'the user muted email for topic orders'],
      [`${ID}:ada:sms`, 'skipped', 'the user muted sms for every topic (preferences channels.sms)'],
      [`${ID}:bob:email`, 'skipped', 'no email address stored for the user'],
    ]);
    const critical = sendJobsFor([['ada', record('email', true)], ['ada', record('sms', true)]], settings, prefs, { pushTtlSeconds: 60 }, NOW);
    expect(critical.jobs.map((j) => [j.key, j.critical])).toEqual([
      [`${ID}:ada:email`, true],
      [`${ID}:ada:sms`, true],
    ]);
    expect(sendJobsFor([['carol', record('sms')]], settings, prefs, { pushTtlSeconds: 60 }, NOW).skipped[0]!.last_error).toBe('no phone number stored for the user');
  });

  it('push: one job per device, keyed per endpoint, with TTL and urgency', () => {
    const { jobs } = sendJobsFor([['ada', record('push', true)]], settings, prefs, { pushTtlSeconds: 3600 }, NOW);
    expect(jobs).toHaveLength(2);
    expect(new Set(jobs.map((j) => j.key)).size).toBe(2);
    expect(jobs[0]!.key).toBe(sendKey(ID, 'ada', 'push', sub(1).endpoint));
    expect(jobs[0]!.key).toMatch(new RegExp(`^${ID}:ada:push:[0-9a-f]{12}$`));
    expect(jobs.map((j) => j.recipient)).toEqual([sub(1).endpoint, sub(2).endpoint]);
    expect(jobs[0]!.message).toMatchObject({ subscription: sub(1), payload: { id: ID, title: 'S', body: 'T' }, ttlSeconds: 3600, urgency: 'high' });
    const one = new Map([['eve', { email: null, phone: null, push: [sub(3)] }]]);
    expect(sendJobsFor([['eve', record('push')]], one, new Map(), { pushTtlSeconds: 60 }, NOW).jobs[0]!.key).toBe(`${ID}:eve:push`);
  });
});

describe('channel content and records', () => {
  const n = (message: Notification['message']): Notification => ({ id: ID, topic_id: 'orders', message, published_at: new Date(NOW).toISOString() });

  it('defaults: a string message is the text; an object gives title/subject and body/text', () => {
    expect(contentFor('email', n('hello'), {})).toEqual({ subject: 'New notification on orders', text: 'hello' });
    expect(contentFor('sms', n('hello'), {})).toEqual({ text: 'hello' });
    expect(contentFor('push', n({ title: 'Hi', body: 'there' }), {})).toEqual({ title: 'Hi', body: 'there' });
    expect(contentFor('sms', n({ subject: 'Hi', text: 'there' }), {})).toEqual({ text: 'Hi: there' });
    expect(contentFor('email', n({ amount: 5 }), {})).toEqual({ subject: 'New notification on orders', text: '{"amount":5}' });
    expect(contentFor('sms', n('x'.repeat(5000)), {}).text).toHaveLength(1600);
    expect(contentFor('email', n('hello'), { email: { subject: 'given', text: 'given' } })).toEqual({ subject: 'given', text: 'given' });
  });

  it('channel records round-trip and are checked against their log', () => {
    const r = channelRecordOf(n('hello'), { channels: ['sms'], critical: false, content: {}, template_id: null }, 'sms');
    expect(parseChannelRecord(JSON.stringify(r), 'sms')).toEqual(r);
    expect(() => parseChannelRecord(JSON.stringify(r), 'email')).toThrow(/this is the email log/);
    expect(() => parseChannelRecord(JSON.stringify({ ...r, content: {} }), 'sms')).toThrow(/content/);
    expect(() => parseChannelRecord('{', 'sms')).toThrow(/JSON/);
    expect(() => parseChannelRecord(JSON.stringify({ ...r, notification_id: 'x' }), 'sms')).toThrow(/notification_id/);
  });
});
