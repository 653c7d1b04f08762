/**
 * Atomic replacement of small files (topic metadata, committed offsets): write a temporary file
 * next to the target, then rename(2) it over the target, so a reader (or a restart after a crash)
 * sees either the old or the new content, never a torn one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `data` atomically (tmp + rename).
 * @param fsync also flush the file and its directory to disk (survives power loss)
 * @throws the underlying fs error (ENOSPC, EACCES, ...)
 */
export function writeFileAtomic(path: string, data: string, fsync: boolean, tmpSuffix = ''): void {
  const tmp = `${path}.${process.pid}${tmpSuffix}.tmp`;
  writeFileSync(tmp, data, { flush: fsync });
  renameSync(tmp, path);
  if (fsync) syncDir(dirname(path));
}

/**
 * Like {@link writeFileAtomic}, but the data is written off the event loop (libuv thread pool):
 * creating and filling a file can stall for tens of ms while the disk flushes other writes. The
 * rename happens only if `stillLatest()` says no newer content was written meanwhile (the caller
 * versions its writes), and is synchronous so nothing can land between the check and it.
 * @returns true when the file was replaced, false when the write was superseded
 * @throws the underlying fs error
 */
export async function writeFileAtomicAsync(path: string, data: string, fsync: boolean, tmpSuffix: string, stillLatest: () => boolean): Promise<boolean> {
  const tmp = `${path}.${process.pid}${tmpSuffix}.tmp`;
  await writeFile(tmp, data, { flush: fsync });
  if (!stillLatest()) {
    rmSync(tmp, { force: true });
    return false;
  }
  renameSync(tmp, path);
  if (fsync) syncDir(dirname(path));
  return true;
}

/** fsyncs a directory so a create, rename or unlink in it is durable. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
