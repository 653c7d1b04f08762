/**
 * The HBase inbox against the real HBase (through the REST gateway of scripts/services.sh): the
 * InboxStore contract (the same suite the SQLite inbox passes) on a fresh table per test, plus
 * the failure mode of an unreachable gateway.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HBaseInboxStore, dropHBaseInboxTable, openHBaseInboxStore } from '../../stores/hbase/inbox-store.ts';
import { T0, entry, notificationAt } from '../contract/fixtures.ts';
import { inboxStoreContract } from '../contract/inbox-store.contract.ts';
import { hbaseRestUrl } from '../helpers/services.ts';

const RETENTION_MS = 7 * 24 * 3_600_000;

inboxStoreContract('hbase', async () => {
  const table = `herald_inbox_test_${randomUUID().slice(0, 8)}`;
  const store = await openHBaseInboxStore({ restUrl: hbaseRestUrl(), table, retentionMs: RETENTION_MS });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dropHBaseInboxTable(hbaseRestUrl(), table);
    },
  };
});

/** A local port nothing listens on (fetch refuses "bad ports" such as 1 before connecting). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('hbase inbox: unreachable gateway', () => {
  it('append rejects fast with HERALD_STORE_FAILED (retriable), and so does open', async () => {
    const restUrl = `http://127.0.0.1:${await closedPort()}`;
    const store = new HBaseInboxStore({ restUrl, table: 'herald_inbox_unreachable', retentionMs: RETENTION_MS, timeoutMs: 2_000 });
    const started = performance.now();
    await expect(store.append([entry('u1', 1, notificationAt(T0))])).rejects.toMatchObject({ code: 'HERALD_STORE_FAILED', retriable: true });
    expect(performance.now() - started).toBeLessThan(1_000); // ms: refused, not timed out
    await expect(openHBaseInboxStore({ restUrl, retentionMs: RETENTION_MS })).rejects.toMatchObject({ code: 'HERALD_STORE_FAILED' });
  });
});
