/**
 * Prometheus metrics (prom-client). One registry per process, served on GET /metrics.
 * Names use the `herald_` prefix and base units (`_seconds`, `_bytes`, `_total`).
 * Modules create their metrics with the helpers below, which return the existing metric when
 * the same name was registered before (modules may be loaded twice in tests).
 */
import client from 'prom-client';

/** The process-wide registry. */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'herald_' });

function existing<T>(name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

/** A counter (monotonic, name ends in `_total`). */
export function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): client.Counter<L> {
  return existing<client.Counter<L>>(name) ?? new client.Counter({ name, help, labelNames, registers: [registry] });
}

/** A gauge (a value that goes up and down). */
export function gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): client.Gauge<L> {
  return existing<client.Gauge<L>>(name) ?? new client.Gauge({ name, help, labelNames, registers: [registry] });
}

/** A histogram; `buckets` in the metric's base unit (seconds for durations). */
export function histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): client.Histogram<L> {
  return (
    existing<client.Histogram<L>>(name) ??
    new client.Histogram({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) })
  );
}
