/**
 * Writes user-log batches into the inbox. Two implementations of one interface:
 * - in-process: decode and `InboxStore.append` on the calling thread (network stores, tests);
 * - threaded: a dedicated worker thread owns the SQLite inbox connection, so the synchronous
 *   SQLite writes never block the edge's event loop (HTTP and SSE). The batch crosses as one
 *   transferable buffer and the answer is one byte per record.
 */
import { Piscina } from 'piscina';
import { HeraldError } from '../../core/errors.ts';
import type { EncodedRecords } from '../../log/record-codec.ts';
import type { InboxStore } from '../../stores/types.ts';
import { decodeUserRecords, type UndecodableRecord } from './decode-user-records.ts';

/** Per-record outcome of a write. */
export const RECORD_REPLAY = 0;
export const RECORD_STORED = 1;
export const RECORD_INVALID = 2;

/** Result of writing one batch. */
export interface InboxWriteResult {
  /** Per record of the batch: RECORD_STORED (new for that user), RECORD_REPLAY or RECORD_INVALID. */
  outcome: Uint8Array;
  invalid: UndecodableRecord[];
}

/** Stores user-log batches in the inbox. */
export interface InboxWriter {
  /**
   * Stores every decodable record of the batch (idempotent per user and notification id).
   * The buffer may be transferred to another thread: do not use it afterwards.
   * @throws HeraldError HERALD_STORE_FAILED / HERALD_STORE_REJECTED from the store
   */
  write(records: EncodedRecords): Promise<InboxWriteResult>;
  close(): Promise<void>;
}

/** Decodes and appends one batch with `inbox`. Shared by both writers. */
export async function writeUserRecords(inbox: InboxStore, records: EncodedRecords): Promise<InboxWriteResult> {
  const decoded = decodeUserRecords(records);
  const outcome = new Uint8Array(decoded.count);
  for (const bad of decoded.invalid) outcome[bad.index] = RECORD_INVALID;
  if (decoded.entries.length > 0) {
    const fresh = await inbox.append(decoded.entries);
    for (let i = 0; i < fresh.length; i++) outcome[decoded.positions[i]!] = fresh[i] ? RECORD_STORED : RECORD_REPLAY;
  }
  return { outcome, invalid: decoded.invalid };
}

/** A writer that runs on the calling thread. */
export function createInProcessInboxWriter(inbox: InboxStore): InboxWriter {
  return { write: (records) => writeUserRecords(inbox, records), close: async () => {} };
}

/** How the inbox-writer thread opens its store. */
export interface InboxWriterStoreSpec {
  kind: 'sqlite';
  path: string;
  synchronous: 'OFF' | 'NORMAL' | 'FULL';
}

/** Task of the inbox-writer thread. */
export interface InboxWriterTask {
  spec: InboxWriterStoreSpec;
  records: EncodedRecords;
}

/** A writer whose store lives on one dedicated worker thread (writes are serialised there). */
export function createThreadedInboxWriter(spec: InboxWriterStoreSpec): InboxWriter {
  const pool = new Piscina({
    filename: new URL('./inbox-writer-worker.ts', import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  return {
    async write(records) {
      const own = records.byteOffset === 0 && records.byteLength === records.buffer.byteLength && records.buffer instanceof ArrayBuffer ? records : records.slice();
      try {
        return (await pool.run({ spec, records: own } satisfies InboxWriterTask, { transferList: [own.buffer as ArrayBuffer] })) as InboxWriteResult;
      } catch (err) {
        const cause = (err as { cause?: { code?: unknown } }).cause;
        const code = cause?.code === 'HERALD_STORE_REJECTED' ? 'HERALD_STORE_REJECTED' : 'HERALD_STORE_FAILED';
        throw new HeraldError(code, `inbox write failed: ${(err as Error).message}`, { cause: err });
      }
    },
    async close() {
      await pool.close();
    },
  };
}
