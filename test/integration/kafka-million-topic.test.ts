/**
 * A topic with 1,000,000 subscribers on the real stack: MySQL (+ the Redis cache), Apache Kafka
 * and `herald job` as a child process with the default topology. One publish to it fans out to
 * every subscriber exactly once through the fanout-pages stage, spread over every partition of
 * the pages log, with the job's peak memory bounded; a small topic published right after it is
 * delivered while the large fan-out is still running (it does not wait behind it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublishRecord } from '../../core/types.ts';
import { isoMs, newNotificationId } from '../../core/ids.ts';
import { createKafkaTransport, type KafkaLogTransport } from '../../log/kafka/index.ts';
import { partitionFor } from '../../log/murmur2.ts';
import { openMysqlSubscriptionStore } from '../../stores/mysql/subscription-store.ts';
import { loadTopology } from '../../topology/index.ts';
import { bulkSubscribeMysql } from '../helpers/bulk-subscriptions.ts';
import { freePort, tempDir } from '../helpers/herald.ts';
import { spawnHeraldRole, type HeraldRoleProcess } from '../helpers/herald-process.ts';
import { waitFor } from '../helpers/http.ts';
import { freshMysqlDatabases, kafkaBrokers, kafkaProfileEnv, redisUrl } from '../helpers/services.ts';

const N = 1_000_000;
/** Heap limit of each of the job's 2 operator workers, MiB: a whole-topic load could not fit. */
const WORKER_HEAP_MB = 128;
const text = new TextDecoder();
/**
 * Peak resident memory allowed to the job process (main thread, 2 workers, librdkafka), bytes.
 * Measured: 775-820 MB for 1,000,000 (and 536 MB for 250,000) with 128 MiB worker heaps; with
 * V8's default worker heaps it reached 1.24-1.37 GB (garbage collected late, not live data).
 */
const PEAK_RSS_LIMIT = 1024 * 1024 * 1024;

/** Peak resident set size of a process (VmHWM), bytes. */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) * 1024;
}

async function counter(url: string, name: string, stage: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name}\\{stage="${stage}"\\} (\\d+)`, 'm').exec(text);
  return Number(m?.[1] ?? 0);
}

describe('a topic with 1,000,000 subscribers (kafka profile, MySQL + Redis, herald job)', () => {
  let job: HeraldRoleProcess | undefined;
  let transport: KafkaLogTransport | undefined;
  let drop: () => Promise<void> = async () => {};
  afterAll(async () => {
    await job?.stop(15_000);
    await transport?.close();
    await drop();
  });

  it('fans out to every subscriber exactly once, spread over the pages log, with bounded memory, without holding up a small topic', async () => {
    const dir = tempDir();
    const dbs = await freshMysqlDatabases(1);
    drop = dbs.drop;
    const store = await openMysqlSubscriptionStore({ shards: dbs.urls }); // migrates
    const T0 = Date.now() - 60_000;
    const loadMs = await bulkSubscribeMysql({ url: dbs.urls[0]!, topicId: 'everyone', count: N, userId: (i) => `member-${i}`, subscribedAt: () => T0 });
    await store.subscribe('side', 'side-user', T0);
    await store.close();

    const env = kafkaProfileEnv(dir, { HERALD_MYSQL_SHARDS: dbs.urls[0]!, HERALD_REDIS_URL: redisUrl(), HERALD_WORKER_THREADS: '2', HERALD_WORKER_HEAP_MB: String(WORKER_HEAP_MB), HERALD_LOG_LEVEL: 'warn' });
    const topology = await loadTopology(env.HERALD_TOPOLOGY!);
    const [fanout, pages] = topology.stages;
    const userLog = topology.stages.find((s) => s.role === 'edge')!.source.log;
    job = await spawnHeraldRole({ name: 'job', role: 'job', port: await freePort(), env, logFile: path.join(dir, 'job.log') });
    const baseRss = peakRss(job.child.pid!);

    transport = createKafkaTransport({ brokers: kafkaBrokers() });
    await transport.ensureTopics(topology.logs.map((l) => ({ name: l.name, partitions: l.partitions })));
    const producer = transport.createProducer();
    const record = (topicId: string, message: string): PublishRecord => {
      const { id, publishedAtMs } = newNotificationId();
      return { id, topic_id: topicId, message, published_at: isoMs(publishedAtMs), idempotency_key: null };
    };
    const big = record('everyone', 'hello, everyone');
    const small = record('side', 'meanwhile');
    const started = performance.now();
    await producer.send(fanout!.source.log, [{ key: big.topic_id, value: JSON.stringify(big) }]);
    await producer.send(fanout!.source.log, [{ key: small.topic_id, value: JSON.stringify(small) }]);
    await producer.close();

    // The small topic arrives while the big fan-out is still under way.
    const sidePartition = partitionFor('side-user', transport.partitionCount(userLog));
    let sideSeen = false;
    let pagedWhenSideSeen = 0;
    await waitFor(async () => {
      await transport!.readToEnd(userLog, sidePartition, (b) => {
        for (const r of b.records()) if (r.key !== null && text.decode(r.key) === 'side-user') sideSeen = true;
      });
      if (sideSeen) pagedWhenSideSeen = await counter(job!.url, 'herald_stage_records_out_total', pages!.name);
      return sideSeen;
    }, 60_000, 'the small topic to be delivered');
    expect(pagedWhenSideSeen, 'the small topic waited for the whole large fan-out').toBeLessThan(N);

    let mainHeapMax = 0;
    await waitFor(async () => {
      const metrics = await (await fetch(`${job!.url}/metrics`)).text();
      mainHeapMax = Math.max(mainHeapMax, Number(/^herald_nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? 0));
      return (await counter(job!.url, 'herald_stage_records_out_total', pages!.name)) >= N;
    }, 300_000, `${N} deliveries by the fanout-pages stage`);
    const fanoutMs = performance.now() - started;
    const peak = peakRss(job.child.pid!);

    // The buckets of the one publish went to every partition of the pages log.
    const pagePartitions = new Set<number>();
    for (let p = 0; p < transport.partitionCount(pages!.source.log); p++) {
      await transport.readToEnd(pages!.source.log, p, (b) => {
        if (b.count > 0) pagePartitions.add(p);
      });
    }
    expect(pagePartitions.size).toBe(transport.partitionCount(pages!.source.log));

    // Every subscriber exactly once, with the big notification, on its own user partition.
    const seen = new Uint8Array(N);
    let total = 0;
    const partitions = transport.partitionCount(userLog);
    for (let p = 0; p < partitions; p++) {
      await transport.readToEnd(userLog, p, (b) => {
        for (const r of b.records()) {
          const key = text.decode(r.key!);
          if (key === 'side-user') continue;
          if (!r.value.length || !text.decode(r.value).includes(big.id)) throw new Error(`${key} got another notification`);
          const i = Number(key.slice('member-'.length));
          if (!(i >= 0 && i < N) || seen[i] !== 0) throw new Error(`unexpected or repeated user ${key}`);
          if (partitionFor(key, partitions) !== p) throw new Error(`${key} on partition ${p}`);
          seen[i] = 1;
          total++;
        }
      });
    }
    expect(total).toBe(N);
    expect(seen.every((x) => x === 1)).toBe(true);
    expect(peak).toBeLessThan(PEAK_RSS_LIMIT);
    console.log(
      `1,000,000-subscriber topic: bulk load ${(loadMs / 1000).toFixed(1)} s; fan-out ${(fanoutMs / 1000).toFixed(1)} s ` +
        `(${Math.round(N / (fanoutMs / 1000))} deliveries/s); job peak RSS ${(peak / 2 ** 20).toFixed(0)} MB (at start ${(baseRss / 2 ** 20).toFixed(0)} MB, main-thread heap at most ${(mainHeapMax / 2 ** 20).toFixed(0)} MB); ` +
        `small topic delivered after ${pagedWhenSideSeen} of the large fan-out's records`,
    );
  });
});
