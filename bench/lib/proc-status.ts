/**
 * Memory, file descriptors and per-thread CPU of another process from /proc (Linux), for
 * bench/edge.bench.ts: what one edge process holds per connection and which of its threads
 * (main, inbox writers, librdkafka, V8 GC) spends the CPU.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticks: number | null = null;
const clockTicks = (): number => (ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100);

/** Memory fields of /proc/<pid>/status, KiB (VmRSS, VmHWM, RssAnon, RssFile, RssShmem) and Threads; null when unreadable. */
export function memoryStatus(pid: number): { rssKiB: number; hwmKiB: number; anonKiB: number; fileKiB: number; threads: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM'), anonKiB: field('RssAnon'), fileKiB: field('RssFile'), threads: field('Threads') };
  } catch {
    return null;
  }
}

/**
 * Resident memory of `pid` by kind of mapping (/proc/<pid>/smaps), KiB: `brk` the [heap] segment
 * (glibc's main malloc arena: native allocations of the main thread), `anon` anonymous mappings
 * (V8's heap pages, other threads' malloc arenas, thread stacks), `file` mapped files (code,
 * SQLite), `other` the rest. Null when unreadable.
 */
export function memoryMap(pid: number): { brkKiB: number; anonKiB: number; fileKiB: number; otherKiB: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const out = { brkKiB: 0, anonKiB: 0, fileKiB: 0, otherKiB: 0 };
  let kind: keyof typeof out = 'otherKiB';
  for (const line of text.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      kind = name === '[heap]' ? 'brkKiB' : name === '' ? 'anonKiB' : name.startsWith('/') ? 'fileKiB' : 'otherKiB';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]);
  }
  return out;
}

/** Open file descriptors of `pid` (entries of /proc/<pid>/fd); null when unreadable. */
export function openFds(pid: number): number | null {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Soft limit on open files of `pid` ("Max open files" of /proc/<pid>/limits); null when unreadable or unlimited. */
export function openFilesLimit(pid: number | 'self' = 'self'): number | null {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
    const n = Number(m?.[1]);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** User and system CPU seconds so far of `pid` (all threads); null when unreadable. */
export function cpuSplit(pid: number): { user: number; system: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) / clockTicks(), system: Number(f[12]) / clockTicks() };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) so far of every thread of `pid`, by thread id, with the thread's name. */
export function threadCpu(pid: number): Map<number, { name: string; seconds: number }> {
  const out = new Map<number, { name: string; seconds: number }>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { name, seconds: (Number(f[11]) + Number(f[12])) / clockTicks() });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * CPU seconds per thread name between two {@link threadCpu} snapshots (threads of one name
 * summed; the process's main thread keeps the process name, e.g. `node`, `MainThread`), largest first.
 */
export function threadCpuDelta(before: Map<number, { name: string; seconds: number }>, after: Map<number, { name: string; seconds: number }>): { thread: string; threads: number; cpu_seconds: number }[] {
  const by = new Map<string, { threads: number; seconds: number }>();
  for (const [tid, a] of after) {
    const d = a.seconds - (before.get(tid)?.seconds ?? 0);
    const e = by.get(a.name) ?? { threads: 0, seconds: 0 };
    e.threads++;
    e.seconds += d;
    by.set(a.name, e);
  }
  return [...by]
    .map(([thread, e]) => ({ thread, threads: e.threads, cpu_seconds: +e.seconds.toFixed(2) }))
    .filter((e) => e.cpu_seconds > 0)
    .sort((a, b) => b.cpu_seconds - a.cpu_seconds);
}
