/** The DeliveryStatusStore contract on SQLite (a fresh file per test) and in memory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryDeliveryStatusStore } from '../../../sinks/channels/memory-status-store.ts';
import { SqliteDeliveryStatusStore } from '../../../stores/sqlite/delivery-status-store.ts';
import { deliveryStatusStoreContract } from '../../contract/delivery-status-store.contract.ts';

deliveryStatusStoreContract('sqlite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-delivery-'));
  const store = new SqliteDeliveryStatusStore({ path: path.join(dir, 'delivery-status.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

deliveryStatusStoreContract('memory', async () => {
  const store = new MemoryDeliveryStatusStore();
  return { store, cleanup: () => store.close() };
});
