import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY_FILE, loadTopology } from '../../../topology/index.ts';

describe('the default topology (jobs/notifications.topology.yaml)', () => {
  it('compiles to the fanout, fanout-pages, edge and channel stages', async () => {
    const t = await loadTopology(DEFAULT_TOPOLOGY_FILE);
    expect(t.name).toBe('notifications');
    expect(t.version).toBe(1);
    expect(t.file).toBe(DEFAULT_TOPOLOGY_FILE);
    expect(t.stages.map((s) => s.name)).toEqual(['fanout', 'fanout-pages', 'edge', 'email', 'sms', 'push', 'email-critical', 'sms-critical', 'push-critical']);

    const [fanout, pages, edge, ...channels] = t.stages;
    expect(fanout).toMatchObject({
      consumerGroup: 'herald.fanout',
      role: 'job',
      source: { name: 'publishes', log: 'herald.publish', partitions: 12 },
      errorPolicy: 'dead-letter',
      deadLetterLog: 'herald.dlq',
      maxBatchRecords: 1000,
    });
    expect(fanout?.operators.map((o) => o.type)).toEqual(['subscription-join', 'bloom-dedup', 'user-repartition']);
    expect(fanout?.sinks).toEqual([
      { name: 'user-log', type: 'routing', log: 'herald.user', options: {} },
      { name: 'pages', type: 'fanout-pages', log: 'herald.fanout-pages', options: { buckets: 256 } },
      ...['email', 'sms', 'push'].flatMap((c) => [
        { name: `${c}-requests`, type: 'channel-routing', log: `herald.channel.${c}`, options: { channel: c, priority: 'bulk' } },
        { name: `${c}-critical-requests`, type: 'channel-routing', log: `herald.channel.${c}.critical`, options: { channel: c, priority: 'critical' } },
      ]),
    ]);

    expect(pages).toMatchObject({
      consumerGroup: 'herald.fanout-pages',
      role: 'job',
      source: { name: 'page-publishes', log: 'herald.fanout-pages', partitions: 12 },
      errorPolicy: 'dead-letter',
      deadLetterLog: 'herald.dlq',
      maxBatchRecords: 4,
    });
    expect(pages?.operators.map((o) => o.type)).toEqual(['subscription-join', 'user-repartition']);
    expect(pages?.sinks.map((k) => [k.type, k.log])).toEqual([
      ['routing', 'herald.user'],
      ...['email', 'sms', 'push'].flatMap((c) => [
        ['channel-routing', `herald.channel.${c}`],
        ['channel-routing', `herald.channel.${c}.critical`],
      ]),
    ]);

    expect(edge).toMatchObject({
      consumerGroup: 'herald.edge',
      role: 'edge',
      source: { name: 'user-notifications', log: 'herald.user', partitions: 12 },
      operators: [],
      errorPolicy: 'dead-letter',
      deadLetterLog: 'herald.dlq',
    });
    expect(edge?.sinks.map((s) => [s.type, s.log])).toEqual([['edge-delivery', null]]);

    for (const [i, channel] of (['email', 'sms', 'push'] as const).entries()) {
      const [bulk, critical] = [channels[i]!, channels[i + 3]!];
      expect(bulk).toMatchObject({
        role: 'channel',
        consumerGroup: `herald.channel.${channel}`,
        source: { log: `herald.channel.${channel}`, partitions: 6 },
        operators: [],
        errorPolicy: 'dead-letter',
        deadLetterLog: 'herald.channel.dlq',
      });
      expect(bulk.sinks).toEqual([
        { name: `send-${channel}`, type: 'channel-delivery', log: `herald.channel.${channel}.retry`, options: { channel, max_attempts: 12, concurrency: channel === 'push' ? 16 : 4, retry_poll_ms: 1_000, priority: 'normal' } },
      ]);
      // The critical lane: its own log, the bulk lane's retry log.
      expect(critical).toMatchObject({ role: 'channel', consumerGroup: `herald.channel.${channel}.critical`, source: { log: `herald.channel.${channel}.critical`, partitions: 3 } });
      expect(critical.sinks.map((k) => [k.type, k.log, k.options['priority']])).toEqual([['channel-delivery', `herald.channel.${channel}.retry`, 'critical']]);
    }
  });

  it('declares the log topics with keys, partitions and retention', async () => {
    const t = await loadTopology(DEFAULT_TOPOLOGY_FILE);
    expect(t.logs).toEqual([
      { name: 'herald.publish', partitions: 12, key: 'topic_id', retentionMs: 604_800_000 },
      { name: 'herald.user', partitions: 12, key: 'user_id', retentionMs: 604_800_000 },
      { name: 'herald.fanout-pages', partitions: 12, key: null, retentionMs: 604_800_000 },
      { name: 'herald.dlq', partitions: 1, key: null, retentionMs: 1_209_600_000 },
      ...['email', 'sms', 'push'].map((c) => ({ name: `herald.channel.${c}`, partitions: 6, key: 'user_id', retentionMs: 604_800_000 })),
      ...['email', 'sms', 'push'].map((c) => ({ name: `herald.channel.${c}.critical`, partitions: 3, key: 'user_id', retentionMs: 604_800_000 })),
      ...['email', 'sms', 'push'].map((c) => ({ name: `herald.channel.${c}.retry`, partitions: 6, key: 'user_id', retentionMs: 604_800_000 })),
      { name: 'herald.channel.dlq', partitions: 1, key: null, retentionMs: 1_209_600_000 },
    ]);
  });

  it('validates operator and sink options and fills in their defaults', async () => {
    const t = await loadTopology(DEFAULT_TOPOLOGY_FILE);
    const ops = Object.fromEntries((t.stages[0]?.operators ?? []).map((o) => [o.type, o.options]));
    expect(ops['subscription-join']).toEqual({ max_inline_subscribers: 10_000, page_size: 5_000 });
    expect(ops['bloom-dedup']).toEqual({ key: 'idempotency_key', window_ms: 600_000, windows: 6, expected_keys_per_window: 100_000, false_positive_rate: 0.001 });
    expect(ops['user-repartition']).toEqual({ key: 'user_id' });
    expect(t.stages[2]?.sinks[0]?.options).toEqual({});
  });
});
