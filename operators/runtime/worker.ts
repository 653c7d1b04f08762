/**
 * The piscina task function of the operator workers: runs one {@link OperatorTask} (one batch of
 * one partition) through its stage's chain. Per worker thread it opens the stores once (by
 * StoreSpecs, or through the pool's `storesModule`) and caches the built chain per stage name.
 * The output buffers are returned in piscina's transfer list (moved, not copied).
 *
 * Errors: a failed task rejects with an Error whose message names the stage and partition and
 * whose `cause` is a plain `{ code, name, message, retriable, stack }` (structured clone keeps
 * plain objects, not Error subclasses' fields); the pool turns it into HERALD_OPERATOR_FAILED.
 */
import { move, Piscina, transferableSymbol, valueSymbol } from 'piscina';
import { HeraldError, isRetriable } from '../../core/errors.ts';
import type { OperatorTask, OperatorTaskResult } from '../task.ts';
import type { OperatorStores } from '../types.ts';
import { buildChain, closeChain, runChain, stageFingerprint, type Chain } from './chain.ts';
import { openStores } from './open-stores.ts';

/** Data the pool gives every worker (piscina `workerData`). */
export interface OperatorWorkerData {
  /** URL of a module exporting `openStores(specs)` that replaces the store factory. */
  storesModule?: string;
}

const workerData = (Piscina.workerData ?? {}) as OperatorWorkerData;
const stores = new Map<string, Promise<OperatorStores>>();
const chains = new Map<string, Chain>();

function storesFor(task: OperatorTask): Promise<OperatorStores> {
  const key = JSON.stringify(task.stores);
  let opened = stores.get(key);
  if (opened === undefined) {
    opened = openStores(task.stores, workerData.storesModule);
    // A failed open is retried by the next task, not cached.
    opened.catch(() => stores.delete(key));
    stores.set(key, opened);
  }
  return opened;
}

async function chainFor(task: OperatorTask): Promise<Chain> {
  const cached = chains.get(task.stage.name);
  if (cached !== undefined && cached.fingerprint === stageFingerprint(task.stage)) return cached;
  if (cached !== undefined) {
    chains.delete(task.stage.name);
    await closeChain(cached);
  }
  const chain = await buildChain(task.stage, await storesFor(task));
  chains.set(task.stage.name, chain);
  return chain;
}

/** A task's error as an Error that crosses the thread boundary with its code. */
function portable(err: unknown, task: OperatorTask): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = err instanceof HeraldError ? err.code : null;
  return new Error(`stage ${task.stage.name} partition ${task.partition}: ${e.message}`, {
    cause: { code, name: e.name, message: e.message, retriable: isRetriable(err), stack: e.stack },
  });
}

/**
 * Runs one task. @returns the result, marked movable with every output buffer in the transfer list
 * @throws Error (see the module comment) when building the chain or an operator fails
 */
export default async function runOperatorTask(task: OperatorTask): Promise<OperatorTaskResult> {
  let result: OperatorTaskResult;
  try {
    result = await runChain(await chainFor(task), task);
  } catch (err) {
    throw portable(err, task);
  }
  const transfer: ArrayBuffer[] = [];
  for (const out of result.outputs) transfer.push(out.records.buffer as ArrayBuffer);
  return move({ [transferableSymbol]: transfer, [valueSymbol]: result }) as unknown as OperatorTaskResult;
}
