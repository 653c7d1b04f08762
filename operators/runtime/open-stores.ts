/**
 * Opens the stores a worker thread's operators use, from the task's StoreSpecs, by kind.
 * Implementations are imported dynamically so operators never import one, and a worker only
 * loads the driver it needs. Workers open stores read-only: operators only read (the main
 * thread writes confirmations). A `storesModule` (a module URL exporting `openStores(specs)`)
 * replaces the factory: tests and benchmarks pass in-memory fakes this way.
 */
import { HeraldError } from '../../core/errors.ts';
import type { DedupStore, SubscriptionStore } from '../../stores/types.ts';
import type { StoreSpecs } from '../task.ts';
import type { OperatorStores } from '../types.ts';

/** What stores/sqlite/index.ts is expected to export (checked at run time, not import time). */
interface SqliteStoresModule {
  openSqliteSubscriptionStore(options: { path: string; readonly: boolean }): SubscriptionStore | Promise<SubscriptionStore>;
  openSqliteDedupStore(options: { path: string; readonly: boolean }): DedupStore | Promise<DedupStore>;
}

/** What stores/network-subscriptions.ts exports (MySQL shards + optional Redis cache). */
interface NetworkSubscriptionsModule {
  openNetworkSubscriptionStore(o: { shards: string[]; redisUrl?: string; migrate: boolean; connectionsPerShard: number }): Promise<SubscriptionStore>;
}

/** A module that replaces the factory (`storesModule` of the operator pool). */
export interface StoresModule {
  openStores(specs: StoreSpecs): OperatorStores | Promise<OperatorStores>;
}

/**
 * Opens the subscription and dedup stores named by `specs`.
 * @param storesModule URL of a {@link StoresModule} to use instead, or undefined
 * @throws HeraldError HERALD_STORE_FAILED when a store cannot be opened (the cause attached)
 */
export async function openStores(specs: StoreSpecs, storesModule?: string): Promise<OperatorStores> {
  try {
    if (storesModule !== undefined) return await ((await import(storesModule)) as StoresModule).openStores(specs);
    if (specs.dedup.kind !== 'sqlite') throw new HeraldError('HERALD_STORE_FAILED', `no dedup store factory for kind ${String(specs.dedup.kind)}`);
    const sqlite = (await import(new URL('../../stores/sqlite/index.ts', import.meta.url).href)) as SqliteStoresModule;
    const subs = specs.subscriptions;
    const subscriptions =
      subs.kind === 'sqlite'
        ? await sqlite.openSqliteSubscriptionStore({ path: subs.path, readonly: true })
        : await ((await import(new URL('../../stores/network-subscriptions.ts', import.meta.url).href)) as NetworkSubscriptionsModule).openNetworkSubscriptionStore({
            shards: subs.shards,
            redisUrl: subs.redisUrl,
            migrate: false,
            connectionsPerShard: 2,
          });
    const dedup = await sqlite.openSqliteDedupStore({ path: specs.dedup.path, readonly: true });
    return { subscriptions, dedup };
  } catch (err) {
    if (err instanceof HeraldError) throw err;
    throw new HeraldError('HERALD_STORE_FAILED', `operator worker could not open its stores: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}
