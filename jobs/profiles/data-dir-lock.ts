/**
 * One process per data directory: the embedded log and SQLite stores assume a single owner.
 * `<dataDir>/LOCK` holds the owner's pid, created with O_EXCL. A lock left by a process that no
 * longer runs (kill -9, power loss) is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HeraldError } from '../../core/errors.ts';

/** A held lock; `release()` is idempotent. */
export interface DataDirLock {
  path: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of `dataDir` (created if missing).
 * @throws HeraldError HERALD_LOG_DIR_LOCKED when a running process holds it
 */
export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let held = true;
      return {
        path: file,
        release() {
          if (!held) return;
          held = false;
          try {
            if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new HeraldError('HERALD_LOG_DIR_LOCKED', `The data directory ${dataDir} is in use by process ${owner}. Stop it, or set HERALD_DATA_DIR (--data-dir) to another directory.`);
      }
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new HeraldError('HERALD_LOG_DIR_LOCKED', `Could not take ${file}; another process keeps recreating it.`);
}
