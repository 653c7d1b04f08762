/**
 * Validates topology data (as parsed from YAML) against the file schema, the catalogue and the
 * semantic rules, collecting every issue rather than stopping at the first. Pure: no I/O, no
 * positions (parse.ts turns paths into line:column).
 */
import { defaultCatalog } from './catalog.ts';
import type { TopologyCatalog } from './catalog.ts';
import { fromZodIssues } from './issues.ts';
import type { PathSegment, PendingIssue } from './issues.ts';
import { logSchema, nodeSchema, stageSchema, topologyFileSchema } from './schema.ts';
import type { LogSpec, NodeSpec, StageSpec, TopologyFile } from './schema.ts';
import { indexByName, readEntries } from './validate-context.ts';
import type { ValidationContext } from './validate-context.ts';
import { checkGraph } from './validate-graph.ts';
import type { StagePlan } from './validate-graph.ts';
import { checkNames, checkStages } from './validate-sections.ts';
import { checkNodes } from './validate-nodes.ts';

export type { StagePlan } from './validate-graph.ts';

/** The result of {@link validateTopology}. */
export interface TopologyValidation {
  /** Every problem found; empty when the topology is valid. */
  issues: PendingIssue[];
  /** The schema-valid file (defaults applied), or null when the schema rejected it. */
  file: TopologyFile | null;
  /** One plan per stage (meaningful only when `issues` is empty). */
  plans: StagePlan[];
  /** Validated operator and sink options by node index. */
  options: Map<number, Record<string, unknown>>;
}

/**
 * Validates `data` (plain data from YAML, forbidden keys already removed).
 * Never throws for invalid input.
 */
export function validateTopology(data: unknown, catalog: TopologyCatalog = defaultCatalog): TopologyValidation {
  const issues: PendingIssue[] = [];
  if (data === null || data === undefined) {
    issues.push({ rule: 'empty-file', path: [], message: 'the file is empty', hint: 'write version: 1, name, logs, stages and nodes (see jobs/notifications.topology.yaml)' });
    return { issues, file: null, plans: [], options: new Map() };
  }
  const parsed = topologyFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) issues.push(...fromZodIssues(parsed.error.issues, topologyFileSchema));
  const options = new Map<number, Record<string, unknown>>();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { issues, file: null, plans: [], options };
  }
  const raw = data as Record<string, unknown>;
  const logs = readEntries<LogSpec>(raw['logs'], logSchema);
  const stages = readEntries<StageSpec>(raw['stages'], stageSchema);
  const nodes = readEntries<NodeSpec>(raw['nodes'], nodeSchema);
  const ctx: ValidationContext = {
    catalog,
    logs,
    stages,
    nodes,
    logByName: indexByName(logs),
    stageByName: indexByName(stages),
    nodeByName: indexByName(nodes),
    options,
    issues,
    report(rule: string, path: PathSegment[], message: string, hint: string, at?: 'key' | 'value') {
      issues.push(at === undefined ? { rule, path, message, hint } : { rule, path, message, hint, at });
    },
  };
  checkNames(ctx);
  checkStages(ctx);
  checkNodes(ctx);
  const plans = checkGraph(ctx);
  return { issues, file: parsed.success ? parsed.data : null, plans, options };
}
