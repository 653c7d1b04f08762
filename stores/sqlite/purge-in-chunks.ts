/**
 * Deletes old rows a chunk at a time: each chunk is its own short transaction and the event loop
 * runs between chunks, so a large purge never holds the write lock or the thread for long.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { runOn } from './sqlite-errors.ts';

/**
 * Runs `deleteChunk` (parameters: beforeMs, chunk size; it must delete at most that many rows)
 * until a chunk deletes fewer than `chunkSize` rows. Returns the total deleted.
 * Rejects like {@link runOn}; rows deleted by earlier chunks stay deleted.
 */
export async function purgeInChunks(
  db: Database.Database,
  operation: string,
  deleteChunk: Database.Statement<[number, number]>,
  beforeMs: number,
  chunkSize: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = runOn(db, operation, () => deleteChunk.run(beforeMs, chunkSize).changes);
    total += deleted;
    if (deleted < chunkSize) return total;
    await yieldToEventLoop();
  }
}
