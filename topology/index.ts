/**
 * Public API of the topology module: load, compile, validate, explain; the catalogue of operator
 * and sink types; the compiled types. Everything else in topology/ is internal.
 */
import { fileURLToPath } from 'node:url';

export type { CompiledLog, CompiledOperator, CompiledSink, CompiledStage, CompiledTopology, ErrorPolicy } from './types.ts';
export { compileTopology, loadTopology, topologyInvalidError } from './compiler.ts';
export type { CompileOptions } from './compiler.ts';
export { createCatalog, defaultCatalog, findOperatorType, findSinkType, registerOperator, registerSink } from './catalog.ts';
export type { OperatorType, SinkType, TopologyCatalog } from './catalog.ts';
export type { BloomDedupOptions, EdgeDeliveryOptions, RoutingOptions, SubscriptionJoinOptions, UserRepartitionOptions } from './builtin-types.ts';
export { explainTopology, formatDuration, topologyToMermaid } from './explain.ts';
export { formatIssue } from './issues.ts';
export type { TopologyIssue } from './issues.ts';
export { TOPOLOGY_DEFAULTS } from './defaults.ts';

/** Absolute path of the default topology, jobs/notifications.topology.yaml. */
export const DEFAULT_TOPOLOGY_FILE: string = fileURLToPath(new URL('../jobs/notifications.topology.yaml', import.meta.url));
