/**
 * Prometheus metrics of `herald router` (GET /metrics of the router; prom-client through
 * core/metrics.ts, so the process metrics carry the `herald_` prefix too).
 */
import { counter, gauge, histogram } from '../core/metrics.ts';

/** Requests by route label (router/routes.ts) and the status the client got (101 for an upgrade). */
export const routerRequests = counter('herald_router_requests_total', 'Requests through the router by route and status (101: WebSocket upgrade).', ['route', 'status']);

/**
 * Edges that could not take a forwarded request: `connect` (refused, timed out: nothing reached
 * the edge; retried elsewhere or answered 503) and `reset` (broke after the request went out).
 */
export const upstreamErrors = counter('herald_router_upstream_errors_total', 'Forwarded requests an edge could not take, by kind (connect, reset).', ['kind']);

/** 307 answers of edges that no longer owned the user's partition, followed by re-resolving. */
export const redirectsFollowed = counter('herald_router_redirects_followed_total', 'Edge 307 answers (ownership moved) followed by re-resolving the owner.');

/** Duration of one read of every partition's owner from Redis, seconds. */
export const ownerRefreshSeconds = histogram('herald_router_owner_refresh_seconds', 'Duration of one read of the partition owners from Redis.', [], [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
]);

/** Failed reads of the owners (the router keeps routing with the previous map). */
export const ownerRefreshFailures = counter('herald_router_owner_refresh_failures_total', 'Failed reads of the partition owners from Redis (the previous map stays in use).');

/** Distinct edges owning user partitions, as of the last read. */
export const ownerEdges = gauge('herald_router_owner_edges', 'Distinct edges owning at least one user partition, as of the last read.');

/** User partitions no edge owns, as of the last read (non-zero during a rebalance). */
export const unownedPartitions = gauge('herald_router_unowned_partitions', 'User partitions no edge owns, as of the last read.');
