/**
 * The inbox-writer thread (piscina task): owns one read-write connection to the inbox and
 * appends each batch it is handed. Errors cross the thread boundary as a plain `cause` with the
 * Herald code (Node drops custom error fields between threads).
 */
import { isHeraldError } from '../../core/errors.ts';
import { openSqliteInboxStore } from '../../stores/sqlite/index.ts';
import type { InboxStore } from '../../stores/types.ts';
import { writeUserRecordBatches, type InboxWriteResult, type InboxWriterTask } from './inbox-writer.ts';

/** Page cache of the inbox writer's connection, KiB (64 MiB). */
const INBOX_WRITER_CACHE_KIB = 65_536;

let store: Promise<InboxStore> | null = null;
let storePath = '';

/** Appends the task's batches in one transaction; opens the store on first use. */
export default async function writeInboxBatches(task: InboxWriterTask): Promise<InboxWriteResult[]> {
  if (store === null || storePath !== task.spec.path) {
    storePath = task.spec.path;
    // The one writer of the inbox gets a large page cache: its B-trees grow with every user.
    store = openSqliteInboxStore({ path: task.spec.path, synchronous: task.spec.synchronous, cacheKiB: INBOX_WRITER_CACHE_KIB });
  }
  const opening = store;
  try {
    return await writeUserRecordBatches(await opening, task.batches);
  } catch (err) {
    // A store that failed to open is opened again by the next task, not cached as failed.
    if (store === opening && !(await opening.then(() => true, () => false))) store = null;
    throw new Error((err as Error).message, { cause: { code: isHeraldError(err) ? err.code : 'HERALD_STORE_FAILED' } });
  }
}
