/**
 * Shared helpers of the benchmarks: the machine and versions (printed and stored with every
 * result), a target line ("measured vs target"), and writing bench/results/<name>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory of JSON results. */
export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../results');

/** Hardware and software of this run. */
export function environment(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memory_bytes: os.totalmem(),
    date: new Date().toISOString(),
  };
}

/** Prints the environment block. */
export function printEnvironment(title: string): void {
  const env = environment();
  console.log(`# ${title}`);
  console.log(`# node ${env.node} on ${env.platform}; ${env.cores} cores (${env.cpu}); ${Math.round(Number(env.memory_bytes) / 2 ** 30)} GiB`);
}

/** A figure beside its target. `higherIsBetter` decides the verdict. */
export function target(label: string, measured: number, goal: number, unit: string, higherIsBetter = true): { label: string; measured: number; target: number; unit: string; met: boolean } {
  const met = higherIsBetter ? measured >= goal : measured <= goal;
  const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3));
  console.log(`  ${label.padEnd(44)} ${fmt(measured).padStart(14)} ${unit.padEnd(12)} target ${higherIsBetter ? '≥' : '≤'} ${fmt(goal)} ${met ? 'met' : 'NOT met'}`);
  return { label, measured, target: goal, unit, met };
}

/** Writes `result` (plus the environment) to bench/results/<name>.json and returns the path. */
export function writeResult(name: string, result: Record<string, unknown>): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ name, environment: environment(), ...result }, null, 2) + '\n');
  console.log(`# wrote ${path.relative(process.cwd(), file)}`);
  return file;
}

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
