/**
 * Exactly-once consume-process-produce on the real broker:
 * - kill -9 of the member between produce and commit, twice, never yields a duplicate or a loss
 *   in the output read with read_committed, and per-partition order is kept;
 * - a member whose batch is in flight when another member joins finishes that batch, commits, and
 *   hands the partition over: no record is delivered twice, and the slow member (batch longer
 *   than max.poll.interval.ms) is not evicted from the group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { registry } from '../../core/metrics.ts';
import { createKafkaTransport } from '../../log/kafka/index.ts';
import type { KafkaLogTransport } from '../../log/kafka/index.ts';
import { kafkaBrokers, uniqueName } from '../helpers/services.ts';

const child = fileURLToPath(new URL('./fixtures/eos-copy.ts', import.meta.url));
const open: { close(): Promise<void> }[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const c of open.splice(0).reverse()) await c.close();
});

function transport(extra: Parameters<typeof createKafkaTransport>[0] extends infer O ? Partial<O> : never = {}): KafkaLogTransport {
  const t = createKafkaTransport({ brokers: kafkaBrokers(), sessionTimeoutMs: 6000, ...extra });
  open.push(t);
  return t;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads `topic` with read_committed into `out` (value strings per partition, in offset order). */
async function collect(t: KafkaLogTransport, topic: string, out: Map<number, string[]>): Promise<void> {
  const c = t.createConsumer({ groupId: uniqueName('reader'), topics: [topic] });
  await c.run(async (b) => {
    const list = out.get(b.partition) ?? [];
    for (const r of b.records()) list.push(Buffer.from(r.value).toString());
    out.set(b.partition, list);
  });
}

const total = (m: Map<number, string[]>) => [...m.values()].reduce((n, l) => n + l.length, 0);

function startCopier(src: string, dst: string, group: string, instanceId: string): ChildProcess {
  const p = spawn(process.execPath, [child, kafkaBrokers(), src, dst, group, instanceId], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HERALD_LOG_LEVEL: 'warn' } });
  children.push(p);
  return p;
}

describe('exactly-once stages on a real broker', () => {
  it('never duplicates or loses a record when the member is killed between produce and commit', async () => {
    const t = transport();
    const [src, dst, group] = [uniqueName('eos-src'), uniqueName('eos-dst'), uniqueName('eos-copy')];
    await t.ensureTopics([{ name: src, partitions: 4 }, { name: dst, partitions: 4 }]);
    const N = 4000;
    // Values carry a per-key sequence so per-key (hence per-partition) order can be checked.
    await t.createProducer().send(src, Array.from({ length: N }, (_, i) => ({ key: `k${i % 40}`, value: `k${i % 40}:${Math.floor(i / 40)}` })));
    const copied = new Map<number, string[]>();
    await collect(t, dst, copied);

    let kills = 0;
    for (const killAt of [800, 2200]) {
      const p = startCopier(src, dst, group, `victim-${kills}`);
      await waitFor(() => total(copied) >= killAt, 90_000, `${killAt} copied records`);
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
      kills++;
    }
    startCopier(src, dst, group, 'survivor');
    await waitFor(() => total(copied) >= N, 120_000, `all ${N} records copied`);
    await new Promise((r) => setTimeout(r, 2000)); // anything extra would show up now

    const all = [...copied.values()].flat();
    console.log(`exactly-once crash test: ${N} records, ${kills} kill -9, ${all.length} copies read_committed, ${all.length - new Set(all).size} duplicates`);
    expect(all.length).toBe(N);
    expect(new Set(all).size).toBe(N);
    // Per key, the sequence numbers arrive in order.
    const lastSeq = new Map<string, number>();
    for (const list of copied.values()) {
      for (const v of list) {
        const [key, seq] = v.split(':') as [string, string];
        expect(Number(seq)).toBe((lastSeq.get(key) ?? -1) + 1);
        lastSeq.set(key, Number(seq));
      }
    }
  }, 300_000);

  it('hands a partition over without delivering the in-flight batch twice, and a batch longer than max.poll.interval.ms does not evict the member', async () => {
    const t = transport({ maxPollIntervalMs: 7000 });
    const [src, dst, group] = [uniqueName('slow-src'), uniqueName('slow-dst'), uniqueName('slow')];
    await t.ensureTopics([{ name: src, partitions: 4 }, { name: dst, partitions: 4 }]);
    const N = 400;
    await t.createProducer().send(src, Array.from({ length: N }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    const handled = new Map<string, string[]>(); // value → members that handled it and committed
    let slowInFlight = false;
    let slowDone = false;
    const member = (name: string, slowFirst: boolean) => {
      const c = t.createConsumer({ groupId: group, topics: [src], exactlyOnce: true, maxBatchRecords: 25 });
      let first = slowFirst;
      return c.run(async (b, out) => {
        const values = [...b.records()].map((r) => Buffer.from(r.value).toString());
        await out.append(dst, values.map((v) => ({ key: v, value: v })));
        if (first) {
          first = false;
          slowInFlight = true;
          await new Promise((r) => setTimeout(r, 10_000)); // longer than max.poll.interval.ms
          slowDone = true;
        }
        out.onCommitted(() => {
          for (const v of values) handled.set(v, [...(handled.get(v) ?? []), name]);
        });
      });
    };
    const lostBefore = await lostPartitions();
    await member('a', true);
    await waitFor(() => slowInFlight, 30_000, 'the slow batch to start');
    await member('b', false); // joins while a's batch is in flight
    await waitFor(() => slowDone && handled.size >= N, 90_000, `all ${N} records handled`);
    await new Promise((r) => setTimeout(r, 2000));

    const copies = new Map<number, string[]>();
    await collect(t, dst, copies);
    await waitFor(() => total(copies) >= N, 30_000, 'the output');
    await new Promise((r) => setTimeout(r, 1000));
    const out = [...copies.values()].flat();
    const twice = [...handled].filter(([, by]) => by.length > 1);
    console.log(`slow-handler rebalance: ${handled.size} records committed once each by ${new Set([...handled.values()].flat()).size} members; ${twice.length} committed twice; output ${out.length}`);
    expect(twice).toEqual([]);
    expect(out.length).toBe(N);
    expect(new Set(out).size).toBe(N);
    expect(new Set([...handled.values()].flat())).toEqual(new Set(['a', 'b'])); // the partitions were shared
    expect(await lostPartitions()).toBe(lostBefore); // nobody was evicted for polling too rarely
  }, 180_000);
});

async function lostPartitions(): Promise<number> {
  const m = await registry.getSingleMetric('herald_log_rebalance_partitions_total')?.get();
  return (m?.values ?? []).filter((v) => v.labels.kind === 'lost').reduce((n, v) => n + v.value, 0);
}
