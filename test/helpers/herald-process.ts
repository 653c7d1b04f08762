/**
 * One Herald role (`herald job` / `herald edge` / `herald router` / `herald channel <name>`) as a child process of the real CLI, its output
 * written straight to a log file (kept for diagnosis when a test fails).
 */
import { childEnv } from './services.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './herald.ts';

/** A running `herald <role>` child. */
export interface HeraldRoleProcess {
  name: string;
  role: 'job' | 'edge' | 'start' | 'router' | 'channel';
  /** http://127.0.0.1:PORT (edge, router: the public API; job: /healthz and /metrics). */
  url: string;
  child: ChildProcess;
  logFile: string;
  /** True until the process exited. */
  readonly alive: boolean;
  /** The log file's content. */
  output(): string;
  /** SIGKILL (kill -9), then wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link spawnHeraldRole}. */
export interface SpawnRoleOptions {
  name: string;
  role: 'job' | 'edge' | 'start' | 'router' | 'channel';
  /** Arguments after the role, e.g. `['sms']` for `herald channel sms`. */
  args?: string[];
  port: number;
  /** HERALD_* settings (HERALD_DATA_DIR etc.); merged over process.env minus store settings (see childEnv). */
  env: Record<string, string>;
  logFile: string;
  /** Max wait for GET /healthz 200, ms. */
  healthTimeoutMs?: number;
  /** Called right after the spawn, before the health wait (register it for clean-up). */
  onSpawned?: (p: HeraldRoleProcess) => void;
}

/**
 * Spawns `node --max-semi-space-size=64 cli/herald.ts <role>` (this Node, like spawnHerald) and
 * waits until GET /healthz answers 200.
 * @throws Error with the log's tail when the process exits or stays unhealthy
 */
export async function spawnHeraldRole(o: SpawnRoleOptions): Promise<HeraldRoleProcess> {
  fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
  const fd = fs.openSync(o.logFile, 'a');
  const child = spawn(process.execPath, ['--max-semi-space-size=64', path.join(ROOT, 'cli/herald.ts'), o.role, ...(o.args ?? [])], {
    cwd: ROOT,
    env: childEnv({ PORT: String(o.port), ...o.env }),
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd); // the child holds its own copy
  let alive = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => ((alive = false), resolve())));
  const url = `http://127.0.0.1:${o.port}`;
  const output = () => (fs.existsSync(o.logFile) ? fs.readFileSync(o.logFile, 'utf8') : '');
  const proc: HeraldRoleProcess = {
    name: o.name,
    role: o.role,
    url,
    child,
    logFile: o.logFile,
    get alive() {
      return alive;
    },
    output,
    async kill() {
      if (alive) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 20_000) {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => alive && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  o.onSpawned?.(proc);
  const deadline = Date.now() + (o.healthTimeoutMs ?? 60_000);
  for (;;) {
    if (!alive) throw new Error(`${o.name} (herald ${o.role}) exited with ${child.exitCode ?? child.signalCode}:\n${output().slice(-4000)}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (r.status === 200) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.kill();
      throw new Error(`${o.name} (herald ${o.role}) did not become healthy:\n${output().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Copies the child processes' log files of a failed test out of its temporary directory (which
 * the test removes) and says where they are. Nothing happens when `logDir` does not exist.
 */
export function keepLogs(logDir: string, testName: string): void {
  if (!fs.existsSync(logDir)) return;
  const keep = fs.mkdtempSync(path.join(os.tmpdir(), `herald-${testName}-logs-`));
  for (const f of fs.readdirSync(logDir)) fs.copyFileSync(path.join(logDir, f), path.join(keep, f));
  console.log(`${testName} failed: child logs kept in ${keep}`);
}
