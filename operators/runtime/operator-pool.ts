/**
 * The operator pool: piscina worker threads running {@link OperatorTask}s (worker.ts). One task
 * is one batch: its records cross to the worker as one transferred ArrayBuffer (no copy, no
 * per-record message) and the outputs come back transferred the same way.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { HeraldError } from '../../core/errors.ts';
import type { OperatorTask, OperatorTaskResult } from '../task.ts';
import type { OperatorWorkerData } from './worker.ts';

/** Options of {@link createOperatorPool}. */
export interface OperatorPoolOptions {
  /** Worker threads (fixed: min = max). Default: the machine's available parallelism. */
  threads?: number;
  /**
   * URL (string or URL) of a module exporting `openStores(specs)` used by the workers instead of
   * the StoreSpecs factory (tests and benchmarks: in-memory fakes).
   */
  storesModule?: string | URL;
  /** Tasks that may wait for a free worker before `run` rejects. Default: unbounded. */
  maxQueue?: number;
  /**
   * JS heap limit (V8 old generation) of each worker, MiB. Default: V8's own (a share of the
   * machine's memory). A task that needs more fails with HERALD_OPERATOR_FAILED (details.code
   * ERR_WORKER_OUT_OF_MEMORY) and its worker is replaced.
   */
  heapMb?: number;
}

/** A snapshot of the pool for metrics (`herald_operator_pool_*`) and benchmarks. */
export interface OperatorPoolStats {
  threads: number;
  /**
   * Share of the pool's capacity (threads × time since it started) during which tasks were in
   * flight (from `run` to its answer, so it includes the offload cost), 0..1.
   */
  utilization: number;
  /** Tasks completed. */
  completed: number;
  /** Tasks waiting for a worker. */
  queueSize: number;
  /** Time a task ran in a worker, ms. */
  runTimeMs: { mean: number; p50: number; p99: number };
  /** Time a task waited for a worker, ms. */
  waitTimeMs: { mean: number; p50: number; p99: number };
}

/** Runs operator tasks on worker threads. */
export interface OperatorPool {
  readonly threads: number;
  /**
   * Runs one batch. `task.records`' ArrayBuffer is transferred (detached here) when the view
   * covers all of it; otherwise the view is copied once.
   * @param options.signal aborts the task (the worker running it is terminated and replaced)
   * @throws HeraldError HERALD_OPERATOR_FAILED when the task throws, its worker exits or it is
   *   aborted; `cause` is the worker's error, `details` = { stage, partition, code, retriable }
   *   with the original HeraldError code (or null) and whether retrying may succeed
   */
  run(task: OperatorTask, options?: { signal?: AbortSignal }): Promise<OperatorTaskResult>;
  stats(): OperatorPoolStats;
  /** Waits for running tasks, then stops the workers. */
  close(): Promise<void>;
}

/** Cause shape set by worker.ts on a failed task. */
interface WorkerCause {
  code: string | null;
  retriable: boolean;
}

function summary(h: { mean: number; p50: number; p99: number }): { mean: number; p50: number; p99: number } {
  return { mean: h.mean, p50: h.p50, p99: h.p99 };
}

/** Starts a pool of `threads` operator workers (see {@link OperatorPoolOptions}). */
export function createOperatorPool(options: OperatorPoolOptions = {}): OperatorPool {
  const threads = options.threads ?? Math.max(1, availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new HeraldError('HERALD_CONFIG_INVALID', `operator pool: threads must be an integer ≥ 1, got ${threads}`);
  const workerData: OperatorWorkerData = {};
  if (options.storesModule !== undefined) workerData.storesModule = String(options.storesModule);
  const piscina = new Piscina({
    filename: new URL('./worker.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    ...(options.heapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: options.heapMb } }),
    workerData,
    ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
  });

  const startedAt = performance.now();
  let busyMs = 0;

  return {
    threads,
    async run(task, runOptions = {}) {
      const runStarted = performance.now();
      let records = task.records;
      if (records.byteOffset !== 0 || records.byteLength !== records.buffer.byteLength || !(records.buffer instanceof ArrayBuffer)) {
        records = records.slice();
      }
      try {
        return (await piscina.run(records === task.records ? task : { ...task, records }, {
          transferList: [records.buffer as ArrayBuffer],
          ...(runOptions.signal === undefined ? {} : { signal: runOptions.signal }),
        })) as OperatorTaskResult;
      } catch (err) {
        const cause = (err as { cause?: unknown })?.cause as Partial<WorkerCause> | undefined;
        const outOfMemory = (err as { code?: unknown })?.code === 'ERR_WORKER_OUT_OF_MEMORY';
        const details = {
          stage: task.stage.name,
          partition: task.partition,
          code: typeof cause?.code === 'string' ? cause.code : outOfMemory ? 'ERR_WORKER_OUT_OF_MEMORY' : null,
          retriable: typeof cause?.retriable === 'boolean' ? cause.retriable : true,
        };
        let message = err instanceof Error ? err.message : String(err);
        if (outOfMemory) message += ` (the batch needed more than the worker heap limit${options.heapMb === undefined ? '' : ` of ${options.heapMb} MiB`}: raise HERALD_WORKER_HEAP_MB, or lower max_batch_records of stage ${task.stage.name})`;
        throw new HeraldError('HERALD_OPERATOR_FAILED', `operator task failed: ${message}`, { cause: err, details });
      } finally {
        busyMs += performance.now() - runStarted;
      }
    },
    stats() {
      const h = piscina.histogram;
      return {
        threads,
        utilization: Math.min(1, busyMs / (threads * Math.max(1, performance.now() - startedAt))),
        completed: piscina.completed,
        queueSize: piscina.queueSize,
        runTimeMs: summary(h.runTime),
        waitTimeMs: summary(h.waitTime),
      };
    },
    async close() {
      await piscina.close();
    },
  };
}
