/**
 * Writes user-log batches into the inbox. Two implementations of one interface:
 * - in-process: decode and `InboxStore.append` on the calling thread (network stores, tests);
 * - threaded: a dedicated worker thread owns the SQLite inbox connection, so the synchronous
 *   SQLite writes never block the edge's event loop (HTTP and SSE). The batch crosses as one
 *   transferable buffer and the answer is one byte per record.
 */
import { Piscina } from 'piscina';
import { HeraldError } from '../../core/errors.ts';
import { countRecords, type EncodedRecords } from '../../log/record-codec.ts';
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
   * The buffer is not modified or transferred.
   * @throws HeraldError HERALD_STORE_FAILED / HERALD_STORE_REJECTED from the store
   */
  write(records: EncodedRecords): Promise<InboxWriteResult>;
  close(): Promise<void>;
}

/** Decodes and appends one batch with `inbox`. Shared by both writers. */
export async function writeUserRecords(inbox: InboxStore, records: EncodedRecords): Promise<InboxWriteResult> {
  return (await writeUserRecordBatches(inbox, [records]))[0]!;
}

/**
 * Decodes several batches and appends them with ONE `InboxStore.append` (one transaction on
 * SQLite): group commit across the partitions whose batches arrived together.
 * @returns one result per batch, in order
 */
export async function writeUserRecordBatches(inbox: InboxStore, batches: readonly EncodedRecords[]): Promise<InboxWriteResult[]> {
  const decoded = batches.map((records) => decodeUserRecords(records));
  const entries = decoded.flatMap((d) => d.entries);
  const fresh = entries.length > 0 ? await inbox.append(entries) : [];
  let at = 0;
  return decoded.map((d) => {
    const outcome = new Uint8Array(d.count);
    for (const bad of d.invalid) outcome[bad.index] = RECORD_INVALID;
    for (let i = 0; i < d.entries.length; i++) outcome[d.positions[i]!] = fresh[at + i] ? RECORD_STORED : RECORD_REPLAY;
    at += d.entries.length;
    return { outcome, invalid: d.invalid };
  });
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

/** Task of the inbox-writer thread: the batches that arrived while the previous task ran. */
export interface InboxWriterTask {
  spec: InboxWriterStoreSpec;
  batches: EncodedRecords[];
}

interface PendingWrite {
  records: EncodedRecords;
  count: number;
  /** When it was handed in, ms (performance clock). */
  since: number;
  resolve: (result: InboxWriteResult) => void;
  reject: (err: unknown) => void;
}

/** Records one group commit aims at: small enough that no batch waits long behind a big one. */
export const INBOX_GROUP_RECORDS = 1_000;
/** A batch waiting longer than this goes first, whatever its size (no starvation), ms. */
export const INBOX_MAX_WAIT_MS = 100;

/**
 * A writer whose store lives on one dedicated worker thread. Writes are serialised there and
 * group-committed: the batches handed in while a task runs go together in the next task, as one
 * transaction (fewer commits and thread hops under load, no added wait when idle). A group takes
 * the smallest waiting batches first, up to about {@link INBOX_GROUP_RECORDS} records, so the
 * deliveries of a small fan-out never queue behind one to thousands of users; a batch that has
 * waited {@link INBOX_MAX_WAIT_MS} goes first. Order across batches is free: the consumer hands
 * one batch per partition at a time.
 */
export function createThreadedInboxWriter(spec: InboxWriterStoreSpec, options: { groupRecords?: number; maxWaitMs?: number } = {}): InboxWriter {
  const groupRecords = options.groupRecords ?? INBOX_GROUP_RECORDS;
  const maxWaitMs = options.maxWaitMs ?? INBOX_MAX_WAIT_MS;
  const pool = new Piscina({
    filename: new URL('./inbox-writer-worker.ts', import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  let pending: PendingWrite[] = [];
  let running = false;

  const flush = async (): Promise<void> => {
    if (running || pending.length === 0) return;
    running = true;
    const now = performance.now();
    // Overdue batches first (oldest first), then the smallest.
    pending.sort((a, b) => {
      const overdueA = now - a.since > maxWaitMs;
      const overdueB = now - b.since > maxWaitMs;
      if (overdueA !== overdueB) return overdueA ? -1 : 1;
      return overdueA ? a.since - b.since : a.count - b.count;
    });
    let take = 0;
    for (let records = 0; take < pending.length && (take === 0 || records + pending[take]!.count <= groupRecords); take++) records += pending[take]!.count;
    const group = pending.slice(0, take);
    pending = pending.slice(take);
    const run = async (members: PendingWrite[]): Promise<InboxWriteResult[]> => {
      // Copies go to the thread: a failed group is retried batch by batch from the originals.
      const batches = members.map((w) => w.records.slice());
      return (await pool.run({ spec, batches } satisfies InboxWriterTask, { transferList: batches.map((b) => b.buffer as ArrayBuffer) })) as InboxWriteResult[];
    };
    const failure = (err: unknown): HeraldError => {
      const cause = (err as { cause?: { code?: unknown } }).cause;
      const code = cause?.code === 'HERALD_STORE_REJECTED' ? 'HERALD_STORE_REJECTED' : 'HERALD_STORE_FAILED';
      return new HeraldError(code, `inbox write failed: ${(err as Error).message}`, { cause: err });
    };
    try {
      const results = await run(group);
      group.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      if (group.length === 1) group[0]!.reject(failure(err));
      // One bad batch must not fail the others of its group: write each on its own.
      else for (const w of group) await run([w]).then((r) => w.resolve(r[0]!), (e: unknown) => w.reject(failure(e)));
    } finally {
      running = false;
      void flush();
    }
  };

  return {
    write(records) {
      return new Promise<InboxWriteResult>((resolve, reject) => {
        pending.push({ records, count: countRecords(records), since: performance.now(), resolve, reject });
        void flush();
      });
    },
    async close() {
      await pool.close();
    },
  };
}
