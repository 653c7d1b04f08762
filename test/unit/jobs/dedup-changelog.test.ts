/**
 * The dedup changelog: confirmations encoded as changelog records, the changelog topic derived
 * from a stage, and a restore (readToEnd of one partition) into a fresh confirm store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dedupChangelogOf, encodeConfirmations, restoreConfirmations } from '../../../jobs/runtime/dedup-changelog.ts';
import { createEmbeddedTransport } from '../../../log/embedded/index.ts';
import { openSqliteDedupStore } from '../../../stores/sqlite/index.ts';
import { loadTopology } from '../../../topology/index.ts';
import { ROOT } from '../../helpers/herald.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-changelog-'));
  dirs.push(d);
  return d;
};

describe('dedup changelog', () => {
  it('is derived for the fan-out stage: partitioned like its source, compacted, kept twice the Bloom horizon', async () => {
    const topology = await loadTopology(path.join(ROOT, 'jobs/notifications.topology.yaml'));
    const fanout = topology.stages.find((s) => s.name === 'fanout')!;
    expect(dedupChangelogOf(topology, fanout)).toEqual({ name: 'herald.fanout.dedup-changelog', partitions: 12, retentionMs: 2 * 6 * 600_000, compact: true });
    expect(dedupChangelogOf(topology, topology.stages.find((s) => s.name === 'edge')!)).toBeNull();
  });

  it('restores exactly the confirmations of one partition into an empty store', async () => {
    const dir = tmp();
    const log = createEmbeddedTransport({ dataDir: dir });
    await log.ensureTopics([{ name: 'cl', partitions: 3 }]);
    const at = 1_700_000_000_000;
    const producer = log.createProducer();
    await producer.send('cl', encodeConfirmations([{ key: 'a', partition: 1, at }, { key: 'b', partition: 1, at: at + 5 }, { key: 'c', partition: 2, at }]));
    await producer.send('cl', encodeConfirmations([{ key: 'a', partition: 1, at: at + 9 }])); // repeated key: idempotent
    const dedup = await openSqliteDedupStore({ path: path.join(dir, 'dedup.db') });
    expect(await restoreConfirmations(log, 'cl', 1, dedup)).toBe(3);
    expect(await dedup.confirmed(['a', 'b', 'c'])).toEqual(new Set(['a', 'b']));
    expect((await dedup.keysSince(1, 0)).map((k) => k.key).sort()).toEqual(['a', 'b']);
    expect(await restoreConfirmations(log, 'cl', 0, dedup)).toBe(0);
    await dedup.close();
    await log.close();
  });
});
