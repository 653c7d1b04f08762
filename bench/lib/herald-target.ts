/**
 * The system under test of the load benchmarks: a Herald started in its own child process (the
 * real CLI on a fresh data dir), or an already running one given by URL. Also reads its
 * Prometheus metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A Herald to load. */
export interface HeraldTarget {
  url: string;
  /** Child process when this benchmark started it. */
  child: ChildProcess | null;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Uses `url` when given, else starts `node cli/herald.ts start` on a free port with a fresh
 * temporary data dir and waits for /healthz (60 s at most).
 */
export async function heraldTarget(url: string | undefined, env: Record<string, string> = {}): Promise<HeraldTarget> {
  if (url) return { url, child: null, stop: async () => {} };
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  const child = spawn(process.execPath, ['--max-semi-space-size=64', path.join(ROOT, 'cli/herald.ts'), 'start'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const target = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`herald exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${target}/healthz`)).status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('herald did not become healthy in 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: target,
    child,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads the sum of every sample of one metric (all label sets) from /metrics. */
export async function scrapeMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
