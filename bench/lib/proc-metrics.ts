/**
 * Measuring helpers of bench/kafka.bench.ts: every sample of a Prometheus text exposition (with
 * labels, unlike herald-target.ts `scrapeMetric`), and CPU time of other processes on this
 * machine (the Herald child, the Kafka broker) from /proc.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One sample: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** All samples of `url`/metrics. */
export async function scrapeAll(url: string): Promise<Sample[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function sum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  let s = 0;
  for (const x of samples) {
    if (x.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => x.labels[k] === v)) s += x.value;
  }
  return s;
}

let clockTicks: number | null = null;

/** CPU seconds (user + system, all threads) used so far by process `pid`; null when unreadable. */
export function processCpuSeconds(pid: number | null | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Pid of the local Kafka broker started by scripts/services.sh, or null. */
export function brokerPid(): number | null {
  try {
    const line = execFileSync(path.join(ROOT, 'scripts/services.sh'), ['status', 'kafka'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /pid (\d+)/.exec(line);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Busy and steal CPU seconds of the whole machine so far (all cores, /proc/stat); null when unreadable. */
export function machineCpuSeconds(): { busy: number; steal: number } | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busy: (user + nice + system + irq + softirq) / clockTicks, steal: steal / clockTicks };
  } catch {
    return null;
  }
}

/** Machine CPU seconds (busy, steal) between construction and `read()`; null when unreadable. */
export class MachineCpuMeter {
  readonly #start = machineCpuSeconds();

  read(): { busy: number; steal: number } | null {
    const now = machineCpuSeconds();
    if (now === null || this.#start === null) return null;
    return { busy: +(now.busy - this.#start.busy).toFixed(2), steal: +(now.steal - this.#start.steal).toFixed(2) };
  }
}

/** CPU seconds used by `pid` between construction and `read()`; null when unreadable. */
export class CpuMeter {
  readonly #pid: number | null;
  readonly #start: number | null;

  constructor(pid: number | null | undefined) {
    this.#pid = pid ?? null;
    this.#start = processCpuSeconds(this.#pid);
  }

  read(): number | null {
    const now = processCpuSeconds(this.#pid);
    return now === null || this.#start === null ? null : +(now - this.#start).toFixed(2);
  }
}
