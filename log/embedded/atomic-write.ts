/**
 * Atomic replacement of small files (topic metadata, committed offsets): write a temporary file
 * next to the target, then rename(2) it over the target, so a reader (or a restart after a crash)
 * sees either the old or the new content, never a torn one.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `data` atomically (tmp + rename).
 * @param fsync also flush the file and its directory to disk (survives power loss)
 * @throws the underlying fs error (ENOSPC, EACCES, ...)
 */
export function writeFileAtomic(path: string, data: string, fsync: boolean): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { flush: fsync });
  renameSync(tmp, path);
  if (fsync) syncDir(dirname(path));
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
