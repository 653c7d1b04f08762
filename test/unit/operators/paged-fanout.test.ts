/**
 * Paged fan-out of large topics through the real operator chains of both job stages (the
 * default topology's fanout and fanout-pages stages, with small thresholds), on the in-memory
 * subscription store: stage 1 turns a publish of a large topic into one page record per
 * user-hash bucket; stage 2 fans each bucket out, reading the store a page at a time.
 */
import { describe, expect, it } from 'vitest';
import { bucketRange, userHash } from '../../../core/user-hash.ts';
import type { PublishRecord } from '../../../core/types.ts';
import { partitionFor } from '../../../log/murmur2.ts';
import { RecordsEncoder } from '../../../log/record-codec.ts';
import { operatorRegistration } from '../../../operators/registry.ts';
import { buildChain, runChain } from '../../../operators/runtime/chain.ts';
import type { CompiledStage } from '../../../topology/types.ts';
import { MemoryDedupStore, MemorySubscriptionStore } from './fixtures/memory-stores.ts';
import { encodeBatch, fanoutStage, outputsOf, publish, taskOf, USER_LOG, type LogOutput } from './helpers.ts';

const T0 = 1_700_000_000_000;
const PAGES_LOG = 'herald.fanout-pages';
const PARTITIONS = { [USER_LOG]: 12, [PAGES_LOG]: 6, 'herald.dlq': 1 };
const MAX_INLINE = 50;
const PAGE_SIZE = 7;
const BUCKETS = 16;

const join = { name: 'subscribers', type: 'subscription-join', options: { max_inline_subscribers: MAX_INLINE, page_size: PAGE_SIZE } };
const pagesSink = { name: 'pages', type: 'fanout-pages', log: PAGES_LOG, options: { buckets: BUCKETS } };

function stageOne(withPagesSink = true): CompiledStage {
  const base = fanoutStage();
  return { ...base, operators: [join, ...base.operators.slice(1)], sinks: withPagesSink ? [...base.sinks, pagesSink] : base.sinks };
}

function stageTwo(): CompiledStage {
  return {
    name: 'fanout-pages',
    consumerGroup: 'herald.fanout-pages',
    role: 'job',
    source: { name: 'page-publishes', log: PAGES_LOG, partitions: 6 },
    operators: [join, { name: 'page-by-user', type: 'user-repartition', options: { key: 'user_id' } }],
    sinks: [{ name: 'page-user-log', type: 'routing', log: USER_LOG, options: {} }],
    errorPolicy: 'dead-letter',
    deadLetterLog: 'herald.dlq',
    maxBatchRecords: 4,
  };
}

type Out = LogOutput;

const outputs = outputsOf;

async function harness(withPagesSink = true) {
  const subscriptions = new MemorySubscriptionStore();
  const stores = { subscriptions, dedup: new MemoryDedupStore() };
  const one = await buildChain(stageOne(withPagesSink), stores);
  const two = await buildChain(stageTwo(), stores);
  const dedupNode = one.stage.operators[1]!;
  const state = { [dedupNode.name]: operatorRegistration('bloom-dedup').partitionState!.create(dedupNode.options) };
  const task = (stage: CompiledStage, records: Uint8Array, partition = 0) => taskOf(stage, records, { partition, state: stage === one.stage ? state : {}, nowMs: T0 + 60_000, partitionCounts: PARTITIONS });
  return {
    subscriptions,
    /** Runs stage 1 on `publishes`, then stage 2 on every page record it wrote, partition by partition. */
    async run(publishes: PublishRecord[], batchSize = 16) {
      const first = await runChain(one, task(one.stage, encodeBatch(publishes)));
      const pages = outputs(first, PAGES_LOG);
      const users: Out[] = outputs(first, USER_LOG);
      const byPartition = new Map<number, Out[]>();
      for (const p of pages) byPartition.set(p.partition, [...(byPartition.get(p.partition) ?? []), p]);
      for (const [partition, records] of byPartition) {
        // Batches of at most 16 page records (several buckets per batch).
        for (let i = 0; i < records.length; i += batchSize) {
          const enc = new RecordsEncoder(1024);
          records.slice(i, i + batchSize).forEach((r, j) => enc.add(r.key, r.value, partition, 1_000, i + j));
          const second = await runChain(two, task(two.stage, enc.finish(), partition));
          expect(second.deadLetters).toEqual([]);
          users.push(...outputs(second, USER_LOG));
        }
      }
      return { first, pages, users };
    },
  };
}

/** user_id → ids of the notifications it received, in output order. */
function received(users: Out[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const u of users) m.set(u.key!, [...(m.get(u.key!) ?? []), (JSON.parse(u.value) as { id: string }).id]);
  return m;
}

async function subscribeMany(store: MemorySubscriptionStore, topic: string, n: number, atMs: number, prefix = 'u-'): Promise<string[]> {
  const users = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  for (const u of users) await store.subscribe(topic, u, atMs);
  return users;
}

describe('paged fan-out of large topics (fanout → fanout-pages)', () => {
  it('fans a small topic out inline and a large one through one page record per bucket, each user once', async () => {
    const h = await harness();
    const small = await subscribeMany(h.subscriptions, 'small', 5, T0 - 1_000, 's-');
    const big = await subscribeMany(h.subscriptions, 'big', 300, T0 - 1_000);
    const p1 = publish('small', T0);
    const p2 = publish('big', T0);
    const { first, pages, users } = await h.run([p1, p2]);

    // Stage 1: the small topic's users directly, the big topic as BUCKETS page records.
    expect(outputs(first, USER_LOG).map((u) => u.key).sort()).toEqual([...small].sort());
    expect(pages).toHaveLength(BUCKETS);
    pages.forEach((p, b) => {
      expect(p.key).toBe(`big/${b}`);
      expect(p.partition).toBe(partitionFor(`big/${b}`, PARTITIONS[PAGES_LOG]));
      expect(JSON.parse(p.value)).toEqual({ ...p2, fanout_bucket: b, fanout_buckets: BUCKETS });
    });
    // The buckets of one publish are spread over every partition of the pages log.
    expect(new Set(pages.map((p) => p.partition)).size).toBe(PARTITIONS[PAGES_LOG]);

    // Stage 2: every subscriber of the big topic exactly once, with the notification of p2.
    const got = received(users);
    for (const u of big) expect(got.get(u), u).toEqual([p2.id]);
    for (const u of small) expect(got.get(u), u).toEqual([p1.id]);
    expect(users).toHaveLength(small.length + big.length);
    // The user-log value is the notification itself (no bucket fields leak out).
    expect(JSON.parse(users.find((u) => u.key === 'u-7' && u.value.includes(p2.id))!.value)).toEqual({ id: p2.id, topic_id: 'big', message: 'hello', published_at: p2.published_at });
  });

  it('never loads a large topic whole: the lookup skips it and each bucket is read page_size at a time', async () => {
    const h = await harness();
    await subscribeMany(h.subscriptions, 'big', 300, T0 - 1_000);
    await h.run([publish('big', T0)]);
    expect(h.subscriptions.rangeReads.length).toBeGreaterThan(BUCKETS); // several pages per bucket
    expect(Math.max(...h.subscriptions.rangeReads.map((r) => r.returned))).toBeLessThanOrEqual(PAGE_SIZE);
    // Only bucket-sized ranges were read, each inside its bucket.
    for (const r of h.subscriptions.rangeReads) expect(r.range.to - r.range.from).toBe(bucketRange(0, BUCKETS).to);
  });

  it('keeps publish-time semantics per bucket: later subscribers and ended periods', async () => {
    const h = await harness();
    await subscribeMany(h.subscriptions, 'big', 100, T0 - 1_000);
    await h.subscriptions.subscribe('big', 'late', T0 + 10); // after the publish
    await h.subscriptions.unsubscribe('big', 'u-1', T0 - 10); // before the publish
    await h.subscriptions.unsubscribe('big', 'u-2', T0 + 10); // after the publish: still gets it
    await h.subscriptions.subscribe('big', 'u-2', T0 + 20); // a new period: no second copy
    const p = publish('big', T0);
    const got = received((await h.run([p])).users);
    expect(got.has('late')).toBe(false);
    expect(got.has('u-1')).toBe(false);
    expect(got.get('u-2')).toEqual([p.id]);
    expect(got.size).toBe(99);
  });

  it('keeps each user in publish order: both publishes of a bucket share its key and partition, in order', async () => {
    const h = await harness();
    const users = await subscribeMany(h.subscriptions, 'big', 120, T0 - 1_000);
    const a = publish('big', T0);
    const b = publish('big', T0 + 1);
    const { pages, users: out } = await h.run([a, b]);
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const both = pages.filter((p) => p.key === `big/${bucket}`);
      expect(both.map((p) => (JSON.parse(p.value) as { id: string }).id)).toEqual([a.id, b.id]);
      expect(both[0]!.partition).toBe(both[1]!.partition);
    }
    const got = received(out);
    for (const u of users) expect(got.get(u), u).toEqual([a.id, b.id]);
  });

  it('a topic stays paged once it was large, even after most subscribers left (sticky)', async () => {
    const h = await harness();
    const users = await subscribeMany(h.subscriptions, 'big', MAX_INLINE + 1, T0 - 1_000);
    for (const u of users.slice(1)) await h.subscriptions.unsubscribe('big', u, T0 - 500);
    const p = publish('big', T0);
    const { first, pages, users: out } = await h.run([p]);
    expect(outputs(first, USER_LOG)).toEqual([]);
    expect(pages).toHaveLength(BUCKETS);
    expect([...received(out)]).toEqual([['u-0', [p.id]]]);
  });

  it('reads a bucket once for all page records of it in one batch (three publishes, one batch per partition)', async () => {
    const h = await harness();
    await subscribeMany(h.subscriptions, 'big', 100, T0 - 1_000);
    await h.run([publish('big', T0), publish('big', T0 + 1), publish('big', T0 + 2)], 1_000);
    const perBucket = new Map<number, number>();
    for (const r of h.subscriptions.rangeReads) perBucket.set(r.range.from, (perBucket.get(r.range.from) ?? 0) + (r.returned > 0 ? 1 : 0));
    const bucketSizes = new Map<number, number>();
    for (let i = 0; i < 100; i++) {
      const from = bucketRange(Math.floor((userHash(`u-${i}`) * BUCKETS) / 2 ** 32), BUCKETS).from;
      bucketSizes.set(from, (bucketSizes.get(from) ?? 0) + 1);
    }
    // Non-empty pages per bucket = ceil(size / PAGE_SIZE): one pass, not one per publish.
    for (const [from, size] of bucketSizes) expect(perBucket.get(from), `bucket at ${from}`).toBe(Math.ceil(size / PAGE_SIZE));
  });

  it('without a fanout-pages sink, a large topic is still delivered (read in bounded pages, held whole)', async () => {
    const h = await harness(false);
    const big = await subscribeMany(h.subscriptions, 'big', 120, T0 - 1_000);
    const p = publish('big', T0);
    const { pages, users } = await h.run([p]);
    expect(pages).toEqual([]);
    expect(users.map((u) => u.key).sort()).toEqual([...big].sort());
    expect(Math.max(...h.subscriptions.rangeReads.map((r) => r.returned))).toBeLessThanOrEqual(PAGE_SIZE);
  });

  it('a retried publish of a large topic (same Idempotency-Key) is paged once', async () => {
    const h = await harness();
    await subscribeMany(h.subscriptions, 'big', 80, T0 - 1_000);
    const p = publish('big', T0, 'key-1');
    const { pages } = await h.run([p, { ...p }]);
    expect(pages).toHaveLength(BUCKETS);
  });
});
