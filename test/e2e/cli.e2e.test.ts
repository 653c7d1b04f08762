/** The `herald` command as a user runs it: help, refusals with the setting named, exit codes. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/herald.ts';

function herald(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'cli/herald.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, HERALD_LOG_LEVEL: 'silent', HERALD_DATA_DIR: tempDir(), PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('herald CLI', () => {
  it('prints help: exit 0 when asked, 2 when no command is given', () => {
    const asked = herald(['--help']);
    expect(asked.code).toBe(0);
    expect(asked.out).toContain('HERALD_DATA_DIR');
    expect(asked.out).toContain('topology validate');
    expect(herald([]).code).toBe(2);
  });

  it('refuses unknown commands and stray arguments', () => {
    expect(herald(['serve']).code).toBe(2);
    expect(herald(['start', 'extra']).code).toBe(2);
  });

  it('dlq replay: refuses a missing action or channel and bad flags with its usage (exit 2)', () => {
    for (const args of [['dlq'], ['dlq', 'list'], ['dlq', 'replay'], ['dlq', 'replay', 'fax'], ['dlq', 'replay', 'sms', '--code'], ['dlq', 'replay', 'sms', 'extra']]) {
      const r = herald(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain('herald dlq replay email|sms|push');
    }
    const bad = herald(['dlq', 'replay', 'sms', '--no-such-flag', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('HERALD_CONFIG_INVALID');
  });

  it('stops on an invalid setting, naming it', () => {
    const r = herald(['start'], { HERALD_RETENTION_DAYS: '0', PORT: 'abc' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('HERALD_CONFIG_INVALID');
    expect(r.err).toContain('HERALD_RETENTION_DAYS');
    expect(r.err).toContain('PORT');
  });

  it('refuses a single role on the embedded profile, saying what to run instead', () => {
    for (const role of ['job', 'edge']) {
      const r = herald([role]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('herald start');
    }
  });

  it('reports a missing topology file', () => {
    const r = herald(['start'], { HERALD_TOPOLOGY: '/nonexistent/topology.yaml' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('HERALD_TOPOLOGY_NOT_FOUND');
  });

  it('migrates the stores and exits (embedded profile)', () => {
    const dir = tempDir();
    const r = herald(['migrate'], { HERALD_DATA_DIR: dir });
    expect(r.code).toBe(0);
    expect(r.out).toContain('up to date');
    expect(r.out).toContain(path.join(dir, 'stores'));
  });
});

