/**
 * Checks on each node alone: the fields its kind needs or forbids, its catalogue type, its
 * options (validated by the type's schema, defaults applied) and the logs and stage it names.
 */
import { findOperatorType, findSinkType } from './catalog.ts';
import { fromZodIssues, suggest } from './issues.ts';
import type { NodeSpec } from './schema.ts';
import type { Entry, ValidationContext } from './validate-context.ts';

type Kind = NodeSpec['kind'];
type Field = 'type' | 'input' | 'log' | 'stage' | 'options';

const REQUIRED: Record<Kind, Field[]> = {
  source: ['log', 'stage'],
  operator: ['type', 'input'],
  repartition: ['type', 'input', 'log'],
  sink: ['type', 'input'],
};

const FORBIDDEN: Record<Kind, Field[]> = {
  source: ['type', 'input', 'options'],
  operator: ['log', 'stage'],
  repartition: ['stage'],
  sink: ['stage'],
};

function missingHint(ctx: ValidationContext, kind: Kind, field: Field): string {
  const list = (names: Iterable<string>) => [...names].join(', ') || 'none declared';
  switch (field) {
    case 'log':
      return `add log: <one of: ${list(ctx.logByName.keys())}>`;
    case 'stage':
      return `add stage: <one of: ${list(ctx.stageByName.keys())}>`;
    case 'type':
      return `add type: <one of: ${list(Object.keys(kind === 'sink' ? ctx.catalog.sinks : ctx.catalog.operators))}>`;
    default:
      return 'add input: <the name of the node it reads>';
  }
}

function forbiddenHint(kind: Kind, field: Field): string {
  if (field === 'stage') return 'remove it: a node belongs to the stage of the source it reads from';
  if (field === 'input') return 'remove it: a source reads a log (log:), not another node';
  if (kind === 'operator' && field === 'log') return 'remove it, or use kind: repartition to write a log';
  return 'remove it';
}

function checkFields(ctx: ValidationContext, node: Entry<NodeSpec>, kind: Kind): void {
  for (const field of REQUIRED[kind]) {
    if (node.raw[field] === undefined) ctx.report('node-field-missing', ['nodes', node.index], `a ${kind} node needs "${field}"`, missingHint(ctx, kind, field));
  }
  for (const field of FORBIDDEN[kind]) {
    if (node.raw[field] !== undefined) ctx.report('node-field-not-allowed', ['nodes', node.index, field], `a ${kind} node has no "${field}"`, forbiddenHint(kind, field), 'key');
  }
}

function checkOptions(ctx: ValidationContext, node: Entry<NodeSpec>, schema: import('zod').ZodType<Record<string, unknown>>): void {
  const parsed = schema.safeParse(node.value.options ?? {}, { reportInput: true });
  if (parsed.success) {
    ctx.options.set(node.index, parsed.data);
    return;
  }
  for (const issue of fromZodIssues(parsed.error.issues, schema, ['nodes', node.index, 'options'])) {
    ctx.issues.push({ ...issue, rule: issue.rule === 'unknown-key' ? 'unknown-option' : 'invalid-option' });
  }
}

function checkType(ctx: ValidationContext, node: Entry<NodeSpec>, kind: Kind): void {
  const type = node.value.type;
  if (type === undefined || kind === 'source') return;
  const path = ['nodes', node.index, 'type'];
  if (kind === 'sink') {
    const sink = findSinkType(ctx.catalog, type);
    if (sink === undefined) {
      const also = findOperatorType(ctx.catalog, type) ? ` ("${type}" is an operator type: use kind: operator)` : '';
      ctx.report('unknown-sink-type', path, `sink type "${type}" is not registered${also}`, suggest(type, Object.keys(ctx.catalog.sinks), 'registered sink types'));
      return;
    }
    if (!sink.writesLog && node.raw['log'] !== undefined) {
      ctx.report('node-field-not-allowed', ['nodes', node.index, 'log'], `sink type "${type}" writes no log`, 'remove log:', 'key');
    }
    checkOptions(ctx, node, sink.optionsSchema);
    return;
  }
  const operator = findOperatorType(ctx.catalog, type);
  if (operator === undefined) {
    const also = findSinkType(ctx.catalog, type) ? ` ("${type}" is a sink type: use kind: sink)` : '';
    ctx.report('unknown-operator-type', path, `operator type "${type}" is not registered${also}`, suggest(type, Object.keys(ctx.catalog.operators), 'registered operator types'));
    return;
  }
  if (kind === 'operator' && operator.repartition === true) {
    ctx.report('repartition-kind-mismatch', ['nodes', node.index, 'kind'], `operator type "${type}" repartitions records, so its node must be kind repartition`, 'write kind: repartition and add log: <the log it writes>');
  } else if (kind === 'repartition' && operator.repartition !== true) {
    const names = Object.entries(ctx.catalog.operators).filter(([, o]) => o.repartition === true).map(([n]) => n);
    ctx.report('repartition-kind-mismatch', path, `operator type "${type}" does not repartition records`, `use a repartitioning type (${names.join(', ') || 'none registered'}), or write kind: operator`);
  }
  checkOptions(ctx, node, operator.optionsSchema);
}

function checkReferences(ctx: ValidationContext, node: Entry<NodeSpec>, kind: Kind): void {
  const { log, stage } = node.value;
  if (log !== undefined && !ctx.logByName.has(log) && kind !== 'operator') {
    const what = kind === 'source' ? 'reads' : 'writes';
    ctx.report(`${kind}-log-undeclared`, ['nodes', node.index, 'log'], `${kind} "${node.value.name ?? node.index}" ${what} log "${log}", which is not declared under logs`, suggest(log, [...ctx.logByName.keys()], 'declared logs', { alternative: 'declare it under logs' }));
  }
  if (kind === 'source' && stage !== undefined && !ctx.stageByName.has(stage)) {
    ctx.report('source-stage-undeclared', ['nodes', node.index, 'stage'], `stage "${stage}" is not declared under stages`, suggest(stage, [...ctx.stageByName.keys()], 'declared stages', { alternative: 'declare it under stages' }));
  }
}

/** Runs every single-node check; fills `ctx.options`. */
export function checkNodes(ctx: ValidationContext): void {
  for (const node of ctx.nodes) {
    const kind = node.value.kind;
    if (kind === undefined) continue; // the schema reported it
    checkFields(ctx, node, kind);
    checkType(ctx, node, kind);
    checkReferences(ctx, node, kind);
  }
}
