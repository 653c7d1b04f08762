import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from '../../../jobs/profiles/data-dir-lock.ts';
import { tempDir } from '../../helpers/herald.ts';

describe('data directory lock', () => {
  it('is taken, released and taken again', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(false);
    lockDataDir(dir).release();
  });

  it('refuses a directory held by a running process, naming it and the setting to change', async () => {
    const dir = tempDir();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
    try {
      fs.writeFileSync(path.join(dir, 'LOCK'), `${other.pid}\n`);
      expect(() => lockDataDir(dir)).toThrow(expect.objectContaining({ code: 'HERALD_LOG_DIR_LOCKED', message: expect.stringContaining('HERALD_DATA_DIR') }));
      expect(() => lockDataDir(dir)).toThrow(String(other.pid));
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a lock whose owner is gone (kill -9)', async () => {
    const dir = tempDir();
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    fs.writeFileSync(path.join(dir, 'LOCK'), `${gone.pid}\n`);
    const lock = lockDataDir(dir);
    expect(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });
});
