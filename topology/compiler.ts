/**
 * Compiles a topology file into the {@link CompiledTopology} the job runtime executes: parse
 * (with positions) → validate (every issue) → split into stages at each repartition.
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { HeraldError } from '../core/errors.ts';
import { defaultCatalog } from './catalog.ts';
import type { TopologyCatalog } from './catalog.ts';
import { formatIssue } from './issues.ts';
import type { TopologyIssue } from './issues.ts';
import { parseTopologyYaml } from './parse.ts';
import { consumerGroupOf } from './validate-sections.ts';
import { validateTopology } from './validate.ts';
import type { TopologyValidation } from './validate.ts';
import type { CompiledStage, CompiledTopology } from './types.ts';

/** Options of {@link compileTopology} and {@link loadTopology}. */
export interface CompileOptions {
  /** Operator and sink types allowed; defaults to {@link defaultCatalog}. */
  catalog?: TopologyCatalog;
}

function byPosition(a: TopologyIssue, b: TopologyIssue): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/**
 * The error thrown for an invalid topology: `HERALD_TOPOLOGY_INVALID`, a message listing every
 * issue as `file:line:col path: what is wrong — what to change`, `details` = the issues.
 */
export function topologyInvalidError(file: string, issues: TopologyIssue[]): HeraldError {
  const lines = issues.map((issue) => `  ${formatIssue(file, issue)}`);
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return new HeraldError('HERALD_TOPOLOGY_INVALID', `topology ${file} has ${count}:\n${lines.join('\n')}`, { details: issues });
}

function build(validation: TopologyValidation, file: string | null): CompiledTopology {
  const spec = validation.file;
  if (spec === null) throw new TypeError('build() needs a schema-valid file');
  const logOf = (name: string) => spec.logs.find((l) => l.name === name);
  const nodeAt = (i: number) => spec.nodes[i] as (typeof spec.nodes)[number];
  const stages = validation.plans.map((plan): CompiledStage => {
    const stage = spec.stages[plan.stage] as (typeof spec.stages)[number];
    const source = nodeAt(plan.source);
    const sourceLog = source.log ?? '';
    return {
      name: stage.name,
      consumerGroup: consumerGroupOf(stage) ?? stage.name,
      role: stage.role,
      source: { name: source.name, log: sourceLog, partitions: logOf(sourceLog)?.partitions ?? 0 },
      operators: plan.operators.map((i) => ({ name: nodeAt(i).name, type: nodeAt(i).type ?? '', options: validation.options.get(i) ?? {} })),
      sinks: plan.sinks.map((s) => ({ name: nodeAt(s.node).name, type: nodeAt(s.node).type ?? '', log: s.log, options: validation.options.get(s.node) ?? {} })),
      errorPolicy: stage.error_policy,
      deadLetterLog: stage.dead_letter_log ?? null,
      maxBatchRecords: stage.max_batch_records,
    };
  });
  return {
    name: spec.name,
    version: spec.version,
    file,
    logs: spec.logs.map((l) => ({ name: l.name, partitions: l.partitions, key: l.key, retentionMs: l.retention_ms })),
    stages,
  };
}

/**
 * Compiles topology YAML text. `file` names the source in messages (and is made absolute in
 * `CompiledTopology.file`); without it messages say `<topology>` and `file` is null.
 * @throws HeraldError HERALD_TOPOLOGY_INVALID listing every issue (YAML syntax, schema, semantics),
 *   with the located issues ({@link TopologyIssue}[]) as `details`.
 */
export function compileTopology(text: string, file?: string, options: CompileOptions = {}): CompiledTopology {
  const shown = file ?? '<topology>';
  const parsed = parseTopologyYaml(text);
  if (parsed.data === undefined) throw topologyInvalidError(shown, parsed.issues);
  const validation = validateTopology(parsed.data, options.catalog ?? defaultCatalog);
  const issues = [...parsed.issues, ...parsed.resolve(validation.issues)].sort(byPosition);
  if (issues.length > 0) throw topologyInvalidError(shown, issues);
  return build(validation, file === undefined ? null : resolvePath(file));
}

/**
 * Reads and compiles a topology file.
 * @throws HeraldError HERALD_TOPOLOGY_NOT_FOUND when the file cannot be read (cause attached);
 *   HERALD_TOPOLOGY_INVALID as {@link compileTopology}.
 */
export async function loadTopology(file: string, options: CompileOptions = {}): Promise<CompiledTopology> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new HeraldError('HERALD_TOPOLOGY_NOT_FOUND', `topology file ${file} ${reason}`, { cause });
  }
  return compileTopology(text, file, options);
}
