/**
 * Starting Herald for tests: in-process (startHerald on port 0 with a temporary data dir) or as
 * a child process running the real CLI (`node cli/herald.ts start`), for crash tests.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from './services.ts';
import { loadConfig } from '../../core/config.ts';
import { startHerald, type HeraldApp } from '../../jobs/app.ts';
import { afterAll, beforeAll } from 'vitest';

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A fresh temporary directory. */
export function tempDir(prefix = 'herald-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts Herald in this process on a free port. */
export async function startInProcess(env: Record<string, string> = {}): Promise<{ app: HeraldApp; url: string; dataDir: string }> {
  const dataDir = env.HERALD_DATA_DIR ?? tempDir();
  const config = loadConfig({ PORT: '0', HERALD_WORKER_THREADS: '2', ...env, HERALD_DATA_DIR: dataDir }, new Map(), ROOT);
  const app = await startHerald(config);
  return { app, url: app.edge!.url, dataDir };
}

/**
 * Herald in this process for one describe block: started in `beforeAll` (then `onStart` runs with
 * it, e.g. to assign the suite's `app` and `url`, or to seed stores) and closed in `afterAll`.
 */
export function useHerald(env: Record<string, string>, onStart: (started: { app: HeraldApp; url: string; dataDir: string }) => void | Promise<void>): void {
  let app: HeraldApp | undefined;
  beforeAll(async () => {
    const started = await startInProcess(env);
    app = started.app;
    await onStart(started);
  });
  afterAll(async () => {
    await app?.close();
  });
}

/** A Herald child process. */
export interface HeraldChild {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `node cli/herald.ts ARGS` to its end with `env` over the test's environment (childEnv); never rejects on a failed exit. */
export function runHeraldCli(args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'cli/herald.ts'), ...args], { cwd: ROOT, env: childEnv(env), timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Spawns `node cli/herald.ts start` and waits for GET /healthz. */
export async function spawnHerald(dataDir: string, port: number, env: Record<string, string> = {}): Promise<HeraldChild> {
  const child = spawn(process.execPath, ['--max-semi-space-size=64', path.join(ROOT, 'cli/herald.ts'), 'start'], {
    cwd: ROOT,
    env: childEnv({ PORT: String(port), HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'warn', HERALD_WORKER_THREADS: '2', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`herald exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`herald did not become healthy:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    url,
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
