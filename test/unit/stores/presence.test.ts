import { MemoryPresenceStore } from '../../../stores/memory-presence.ts';
import { presenceStoreContract } from '../../contract/presence-store.contract.ts';

presenceStoreContract('memory', async () => {
  let clock = 1_700_000_000_000;
  return {
    store: new MemoryPresenceStore(() => clock),
    cleanup: async () => {},
    advance: async (ms: number) => {
      clock += ms;
    },
  };
});
