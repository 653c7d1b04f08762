import { describe, expect, it } from 'vitest';
import { resolveKafkaOptions } from '../../../log/kafka/options.ts';

describe('kafka transport options', () => {
  it('applies defaults and keeps a given instance id', () => {
    const o = resolveKafkaOptions({ brokers: '127.0.0.1:9092,10.0.0.2:9093', instanceId: 'job-1' });
    expect(o).toMatchObject({ brokers: '127.0.0.1:9092,10.0.0.2:9093', clientId: 'herald', instanceId: 'job-1', replicationFactor: -1, sessionTimeoutMs: 10_000, maxPollIntervalMs: 300_000, transactionTimeoutMs: 10_000 });
    expect(resolveKafkaOptions({ brokers: 'k:9092' }).instanceId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses bad values with HERALD_CONFIG_INVALID naming the option', () => {
    for (const [bad, name] of [
      [{ brokers: 'localhost' }, 'brokers'],
      [{ brokers: 'k:9092', replicationFactor: 0 }, 'replicationFactor'],
      [{ brokers: 'k:9092', instanceId: 'has space' }, 'instanceId'],
      [{ brokers: 'k:9092', transactionTimeoutMs: 10 }, 'transactionTimeoutMs'],
    ] as const) {
      expect(() => resolveKafkaOptions(bad as never)).toThrow(expect.objectContaining({ code: 'HERALD_CONFIG_INVALID', message: expect.stringContaining(name) }));
    }
  });
});
