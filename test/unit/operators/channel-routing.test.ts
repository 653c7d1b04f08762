/**
 * The channel-routing sink through the real operator chains: a publish that asks for channels is
 * written once per recipient to each asked channel's log (key user_id, partition = murmur2 like
 * Kafka, value = the channel record with that channel's content); in-app-only publishes write
 * nothing there; a paged topic's channel records come from the fanout-pages stage, with the
 * delivery carried through the page records.
 */
import { describe, expect, it } from 'vitest';
import type { PublishRecord } from '../../../core/types.ts';
import { partitionFor } from '../../../log/murmur2.ts';
import { RecordsEncoder } from '../../../log/record-codec.ts';
import { operatorRegistration } from '../../../operators/registry.ts';
import { buildChain, runChain } from '../../../operators/runtime/chain.ts';
import type { OperatorTaskResult } from '../../../operators/task.ts';
import { parseChannelRecord, type ChannelRecord } from '../../../sinks/channels/channel-record.ts';
import type { CompiledStage } from '../../../topology/types.ts';
import { MemoryDedupStore, MemorySubscriptionStore } from './fixtures/memory-stores.ts';
import { encodeBatch, fanoutStage, outputsOf, publish, taskOf, USER_LOG, type LogOutput } from './helpers.ts';

const T0 = 1_700_000_000_000;
const EMAIL_LOG = 'herald.channel.email';
const SMS_LOG = 'herald.channel.sms';
const PAGES_LOG = 'herald.fanout-pages';
const PARTITIONS = { [USER_LOG]: 12, [EMAIL_LOG]: 6, [SMS_LOG]: 3, [PAGES_LOG]: 4, 'herald.dlq': 1 };

const channelSinks = [
  { name: 'email-requests', type: 'channel-routing', log: EMAIL_LOG, options: { channel: 'email' } },
  { name: 'sms-requests', type: 'channel-routing', log: SMS_LOG, options: { channel: 'sms' } },
];

function stageOne(maxInline = 10_000): CompiledStage {
  const base = fanoutStage();
  return {
    ...base,
    operators: [{ name: 'subscribers', type: 'subscription-join', options: { max_inline_subscribers: maxInline, page_size: 5 } }, ...base.operators.slice(1)],
    sinks: [...base.sinks, { name: 'pages', type: 'fanout-pages', log: PAGES_LOG, options: { buckets: 4 } }, ...channelSinks],
  };
}

function stageTwo(): CompiledStage {
  return {
    name: 'fanout-pages',
    consumerGroup: 'herald.fanout-pages',
    role: 'job',
    source: { name: 'page-publishes', log: PAGES_LOG, partitions: 4 },
    operators: [
      { name: 'page-subscribers', type: 'subscription-join', options: { page_size: 5 } },
      { name: 'page-by-user', type: 'user-repartition', options: { key: 'user_id' } },
    ],
    sinks: [{ name: 'page-user-log', type: 'routing', log: USER_LOG, options: {} }, ...channelSinks],
    errorPolicy: 'dead-letter',
    deadLetterLog: 'herald.dlq',
    maxBatchRecords: 4,
  };
}

type Out = LogOutput & { key: string };

const outputs = (result: OperatorTaskResult, log: string): Out[] => outputsOf(result, log) as Out[];

async function harness(maxInline = 10_000) {
  const subscriptions = new MemorySubscriptionStore();
  const stores = { subscriptions, dedup: new MemoryDedupStore() };
  const one = await buildChain(stageOne(maxInline), stores);
  const two = await buildChain(stageTwo(), stores);
  const dedupNode = one.stage.operators[1]!;
  const state = { [dedupNode.name]: operatorRegistration('bloom-dedup').partitionState!.create(dedupNode.options) };
  const task = (stage: CompiledStage, records: Uint8Array) => taskOf(stage, records, { state: stage === one.stage ? state : {}, nowMs: T0 + 60_000, partitionCounts: PARTITIONS });
  return {
    subscriptions,
    runOne: (publishes: PublishRecord[]) => runChain(one, task(one.stage, encodeBatch(publishes))),
    runTwo: (pages: Out[]) => {
      const enc = new RecordsEncoder(1024);
      pages.forEach((p, i) => enc.add(p.key, p.value, p.partition, 1_000, i));
      return runChain(two, task(two.stage, enc.finish()));
    },
  };
}

async function subscribe(store: MemorySubscriptionStore, topic: string, users: string[]): Promise<void> {
  for (const u of users) await store.subscribe(topic, u, T0 - 1_000);
}

describe('channel-routing sink', () => {
  it('writes one record per recipient to each asked channel, keyed and partitioned by user_id', async () => {
    const h = await harness();
    const users = ['ada', 'bob', 'cy', 'dee'];
    await subscribe(h.subscriptions, 'orders', users);
    const p: PublishRecord = {
      ...publish('orders', T0, null, { title: 'Shipped', body: 'Your order shipped' }),
      delivery: { channels: ['email', 'sms'], critical: true, content: { email: { subject: 'Order shipped', text: 'It is on its way', html: '<p>It is on its way</p>' } }, template_id: null },
    };
    const inApp = publish('orders', T0 + 1);
    const result = await h.runOne([p, inApp]);
    expect(result.deadLetters).toEqual([]);
    expect(outputs(result, USER_LOG)).toHaveLength(8);

    const email = outputs(result, EMAIL_LOG);
    expect(email.map((o) => o.key).sort()).toEqual([...users].sort());
    for (const o of email) {
      expect(o.partition).toBe(partitionFor(o.key, PARTITIONS[EMAIL_LOG]));
      const r: ChannelRecord = parseChannelRecord(o.value, 'email');
      expect(r).toEqual({
        notification_id: p.id,
        topic_id: 'orders',
        published_at: p.published_at,
        channel: 'email',
        critical: true,
        content: { subject: 'Order shipped', text: 'It is on its way', html: '<p>It is on its way</p>' },
        template_id: null,
      });
    }
    // SMS had no content: the default from the message's title and body.
    const sms = outputs(result, SMS_LOG);
    expect(sms.map((o) => o.key).sort()).toEqual([...users].sort());
    for (const o of sms) {
      expect(o.partition).toBe(partitionFor(o.key, PARTITIONS[SMS_LOG]));
      expect(parseChannelRecord(o.value, 'sms').content).toEqual({ text: 'Shipped: Your order shipped' });
    }
  });

  it('writes nothing for in-app-only publishes, for channels not asked, or without subscribers', async () => {
    const h = await harness();
    await subscribe(h.subscriptions, 'news', ['ada']);
    const onlyEmail: PublishRecord = { ...publish('news', T0, null, 'plain text'), delivery: { channels: ['email'], critical: false, content: {}, template_id: null } };
    const nobody: PublishRecord = { ...publish('empty', T0), delivery: { channels: ['sms'], critical: false, content: {}, template_id: null } };
    const result = await h.runOne([publish('news', T0), onlyEmail, nobody]);
    expect(outputs(result, SMS_LOG)).toEqual([]);
    const email = outputs(result, EMAIL_LOG);
    expect(email).toHaveLength(1);
    expect(parseChannelRecord(email[0]!.value, 'email').content).toEqual({ subject: 'New notification on news', text: 'plain text' });
  });

  it('a duplicate publish (same Idempotency-Key) is dropped before the channel logs', async () => {
    const h = await harness();
    await subscribe(h.subscriptions, 'news', ['ada', 'bob']);
    const first: PublishRecord = { ...publish('news', T0, 'key-1'), delivery: { channels: ['email'], critical: false, content: {}, template_id: null } };
    const again: PublishRecord = { ...first, id: publish('news', T0).id };
    const result = await h.runOne([first, again]);
    expect(outputs(result, EMAIL_LOG)).toHaveLength(2);
  });

  it('paged topics: the page records carry the delivery and the fanout-pages stage routes the channels', async () => {
    const h = await harness(3);
    const users = Array.from({ length: 20 }, (_, i) => `u-${i}`);
    await subscribe(h.subscriptions, 'big', users);
    const p: PublishRecord = { ...publish('big', T0), delivery: { channels: ['email'], critical: false, content: { email: { subject: 'S', text: 'T' } }, template_id: 'welcome' } };
    const first = await h.runOne([p]);
    expect(outputs(first, EMAIL_LOG)).toEqual([]);
    const pages = outputs(first, PAGES_LOG);
    expect(pages).toHaveLength(4);
    expect(JSON.parse(pages[0]!.value).delivery).toEqual(p.delivery);
    const second = await h.runTwo(pages);
    expect(second.deadLetters).toEqual([]);
    const email = outputs(second, EMAIL_LOG);
    expect(email.map((o) => o.key).sort()).toEqual([...users].sort());
    expect(parseChannelRecord(email[0]!.value, 'email')).toMatchObject({ notification_id: p.id, content: { subject: 'S', text: 'T' }, template_id: 'welcome' });
  });

  it('priority: a critical lane routes only critical notifications, the bulk lane only the others', async () => {
    const subscriptions = new MemorySubscriptionStore();
    await subscribe(subscriptions, 'news', ['ada', 'bob']);
    const base = fanoutStage();
    const stage: CompiledStage = {
      ...base,
      sinks: [
        ...base.sinks,
        { name: 'bulk', type: 'channel-routing', log: EMAIL_LOG, options: { channel: 'email', priority: 'bulk' } },
        { name: 'critical', type: 'channel-routing', log: SMS_LOG, options: { channel: 'email', priority: 'critical' } },
      ],
    };
    const chain = await buildChain(stage, { subscriptions, dedup: new MemoryDedupStore() });
    const dedup = chain.stage.operators[1]!;
    const bulk: PublishRecord = { ...publish('news', T0), delivery: { channels: ['email'], critical: false, content: {}, template_id: null } };
    const urgent: PublishRecord = { ...publish('news', T0), delivery: { channels: ['email'], critical: true, content: {}, template_id: null } };
    const state = { [dedup.name]: operatorRegistration('bloom-dedup').partitionState!.create(dedup.options) };
    const result = await runChain(chain, taskOf(stage, encodeBatch([bulk, urgent]), { state, nowMs: T0 + 60_000, partitionCounts: PARTITIONS }));
    expect(outputs(result, EMAIL_LOG).map((o) => parseChannelRecord(o.value, 'email').notification_id)).toEqual([bulk.id, bulk.id]);
    expect(outputs(result, SMS_LOG).map((o) => parseChannelRecord(o.value, 'email').notification_id)).toEqual([urgent.id, urgent.id]);
  });

  it('dead-letters a publish record whose delivery is malformed', async () => {
    const h = await harness();
    await subscribe(h.subscriptions, 'news', ['ada']);
    const bad = { ...publish('news', T0), delivery: { channels: ['fax'], critical: false, content: {} } };
    const result = await h.runOne([JSON.stringify(bad) as unknown as PublishRecord]);
    expect(result.deadLetters).toHaveLength(1);
    expect(result.deadLetters[0]!.message).toMatch(/delivery.channels/);
  });
});
