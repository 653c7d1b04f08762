/** The priority gate, and a channel worker yielding to it: bulk sends wait while critical work runs. */
import { describe, expect, it } from 'vitest';
import { PriorityGate } from '../../../sinks/channels/priority-gate.ts';
import { MemoryDeliveryStatusStore } from '../../../sinks/channels/memory-status-store.ts';
import { ProviderRateLimiter } from '../../../sinks/channels/rate-limiter.ts';
import type { ChannelProvider, SendOutcome, SmsMessage } from '../../../sinks/channels/types.ts';
import { ChannelWorker, type SendJob } from '../../../sinks/channels/worker.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('PriorityGate', () => {
  it('idle resolves at once when nothing runs, else when the last run settles (also on rejection)', async () => {
    const gate = new PriorityGate();
    await gate.idle();
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)));
    const second = gate.run(() => Promise.reject(new Error('no')));
    expect(gate.busy).toBe(true);
    let idle = false;
    const waiting = gate.idle().then(() => (idle = true));
    await expect(second).rejects.toThrow('no');
    await sleep(5);
    expect(idle).toBe(false);
    release();
    await first;
    await waiting;
    expect(idle).toBe(true);
    expect(gate.busy).toBe(false);
  });

  it('a worker yielding to the gate sends no bulk job while critical work runs', async () => {
    const sent: string[] = [];
    const provider: ChannelProvider<SmsMessage> = {
      channel: 'sms',
      name: 'recording',
      async send(m): Promise<SendOutcome> {
        sent.push(m.key);
        return { kind: 'sent' };
      },
      async close() {},
    };
    const gate = new PriorityGate();
    const limiter = new ProviderRateLimiter('gate-test', { perSecond: 1_000 }, { kind: 'memory' });
    const worker = new ChannelWorker<SmsMessage>({ provider, limiter, statuses: new MemoryDeliveryStatusStore(), yieldTo: gate, concurrency: 1 });
    const job = (key: string, critical = false): SendJob<SmsMessage> => ({
      key,
      notification_id: key,
      user_id: key,
      channel: 'sms',
      attempt: 1,
      not_before_ms: 0,
      critical,
      recipient: key,
      message: { key, to: '+14155550100', text: key },
    });
    let release!: () => void;
    const critical = gate.run(() => new Promise<void>((r) => (release = r)).then(() => void sent.push('critical-work')));
    const bulk = worker.process([job('b1'), job('b2'), job('c1', true)], Date.now());
    await sleep(50);
    // The batch's own critical job is not held back; its bulk jobs are.
    expect(sent).toEqual(['c1']);
    release();
    await critical;
    await bulk;
    expect(sent).toEqual(['c1', 'critical-work', 'b1', 'b2']);
  });
});
