/**
 * Checks on the node graph, and the split into stages: inputs resolve, no cycles, every node is
 * reachable from a source, each stage is a chain source → operators → (repartition) → sinks,
 * repartitions write through a sink to a log keyed like them, and no stage feeds itself.
 */
import { findSinkType } from './catalog.ts';
import { suggest } from './issues.ts';
import type { NodeSpec } from './schema.ts';
import type { Entry, ValidationContext } from './validate-context.ts';

type NodeEntry = Entry<NodeSpec>;

/** How one stage runs: indexes into the file's `stages` and `nodes` lists. */
export interface StagePlan {
  /** Index of the stage in `stages`. */
  stage: number;
  /** Index of its source node. */
  source: number;
  /** Operator and repartition nodes, in execution order. */
  operators: number[];
  /** Sink nodes reading the last node of the chain, with the log each writes (or null). */
  sinks: { node: number; log: string | null }[];
}

function inputsOf(node: NodeEntry): string[] {
  const input = node.value.input;
  return input === undefined ? [] : typeof input === 'string' ? [input] : input;
}

function label(node: NodeEntry): string {
  return node.value.name ?? `nodes[${node.index}]`;
}

class Graph {
  readonly ctx: ValidationContext;
  readonly parent = new Map<number, NodeEntry>();
  readonly children = new Map<number, NodeEntry[]>();
  readonly inCycle = new Set<number>();

  constructor(ctx: ValidationContext) {
    this.ctx = ctx;
  }

  kids(node: NodeEntry): NodeEntry[] {
    return (this.children.get(node.index) ?? []).filter((k) => !this.inCycle.has(k.index));
  }

  /** The log a sink writes: its own `log`, else the log of the repartition it reads. */
  sinkLog(sink: NodeEntry): string | undefined {
    const parent = this.parent.get(sink.index);
    if (this.ownLog(sink)) return sink.value.log;
    return sink.value.log ?? (parent?.value.kind === 'repartition' ? parent.value.log : undefined);
  }

  writesLog(sink: NodeEntry): boolean {
    return sink.value.type !== undefined && findSinkType(this.ctx.catalog, sink.value.type)?.writesLog === true;
  }

  /** Whether the sink's type writes its own `log`, not the repartition's (catalogue `ownLog`). */
  ownLog(sink: NodeEntry): boolean {
    return sink.value.type !== undefined && findSinkType(this.ctx.catalog, sink.value.type)?.ownLog === true;
  }
}

function linkInputs(g: Graph): void {
  const { ctx } = g;
  const names = [...ctx.nodeByName.keys()];
  for (const node of ctx.nodes) {
    if (node.value.kind === 'source' || node.value.kind === undefined) continue;
    const inputs = inputsOf(node);
    if (inputs.length > 1) {
      ctx.report('multiple-inputs', ['nodes', node.index, 'input'], `"${label(node)}" reads ${inputs.length} inputs; in version 1 a stage is a chain of single-input nodes`, 'keep one input; to merge streams, write both to one log and read it with one source');
    }
    const first = inputs[0];
    if (first === undefined) continue;
    const parent = ctx.nodeByName.get(first);
    if (parent === undefined) {
      ctx.report('unknown-input', ['nodes', node.index, 'input'], `input "${first}" is not the name of any node`, suggest(first, names, 'nodes', { otherwise: 'name an existing node' }));
      continue;
    }
    if (parent.value.kind === 'sink') {
      ctx.report('input-is-sink', ['nodes', node.index, 'input'], `"${label(node)}" reads sink "${first}", but a sink ends its stage`, 'read the node before the sink, or read the log the sink writes with a new source node');
      continue;
    }
    g.parent.set(node.index, parent);
    g.children.set(parent.index, [...(g.children.get(parent.index) ?? []), node]);
  }
}

function findCycles(g: Graph): void {
  const state = new Map<number, 'visiting' | 'done'>();
  for (const node of g.ctx.nodes) {
    const path: NodeEntry[] = [];
    let cur: NodeEntry | undefined = node;
    while (cur !== undefined && !state.has(cur.index)) {
      state.set(cur.index, 'visiting');
      path.push(cur);
      cur = g.parent.get(cur.index);
    }
    if (cur !== undefined && state.get(cur.index) === 'visiting') {
      const members = path.slice(path.indexOf(cur));
      for (const m of members) g.inCycle.add(m.index);
      const flow = [...members].reverse().map(label);
      const at = members.reduce((a, b) => (a.index <= b.index ? a : b));
      g.ctx.report('cycle', ['nodes', at.index, 'input'], `nodes form a cycle: ${[...flow, flow[0]].join(' → ')}`, 'every node must lead back to a source: make one of them read a node outside the cycle');
    }
    for (const p of path) state.set(p.index, 'done');
  }
}

function findUnreachable(g: Graph): void {
  const reached = new Set<number>();
  const queue = g.ctx.nodes.filter((n) => n.value.kind === 'source');
  while (queue.length > 0) {
    const node = queue.pop() as NodeEntry;
    if (reached.has(node.index)) continue;
    reached.add(node.index);
    if (node.value.kind !== 'sink') queue.push(...g.kids(node));
  }
  for (const node of g.ctx.nodes) {
    if (reached.has(node.index) || g.inCycle.has(node.index) || !g.parent.has(node.index)) continue;
    let root = node;
    while (!g.inCycle.has(root.index) && g.parent.has(root.index)) root = g.parent.get(root.index) as NodeEntry;
    const why = g.inCycle.has(root.index) ? 'is in a cycle' : 'has no valid input';
    g.ctx.report('unreachable', ['nodes', node.index, 'name'], `"${label(node)}" is not reachable from any source: upstream node "${label(root)}" ${why}`, `fix "${label(root)}" so the chain leads back to a source, or remove "${label(node)}"`);
  }
}

function checkSinks(g: Graph): void {
  const { ctx } = g;
  for (const sink of ctx.nodes) {
    if (sink.value.kind !== 'sink' || !g.writesLog(sink)) continue;
    const parent = g.parent.get(sink.index);
    const log = sink.value.log;
    if (g.ownLog(sink)) {
      if (sink.raw['log'] === undefined) {
        ctx.report('node-field-missing', ['nodes', sink.index], `a ${sink.value.type ?? ''} sink needs "log": it writes a log of its own, not the repartition's`, `add log: <one of: ${[...ctx.logByName.keys()].join(', ')}>`);
      }
      continue;
    }
    if (parent?.value.kind === 'repartition' && log !== undefined && parent.value.log !== undefined && log !== parent.value.log) {
      ctx.report('sink-log-mismatch', ['nodes', sink.index, 'log'], `sink "${label(sink)}" writes log "${log}" but reads repartition "${label(parent)}", which partitions for log "${parent.value.log}"`, `write log: ${parent.value.log}, or remove log: (it defaults to the repartition's log)`);
    } else if (sink.raw['log'] === undefined && parent !== undefined && parent.value.kind !== 'repartition') {
      ctx.report('node-field-missing', ['nodes', sink.index], `a ${sink.value.type ?? ''} sink needs "log" (it reads no repartition to take it from)`, `add log: <one of: ${[...ctx.logByName.keys()].join(', ')}>`);
    }
  }
}

function checkRepartitions(g: Graph): void {
  const { ctx } = g;
  for (const node of ctx.nodes) {
    if (node.value.kind !== 'repartition' || node.value.log === undefined) continue;
    const log = node.value.log;
    const writers = g.kids(node).filter((k) => k.value.kind === 'sink' && g.writesLog(k) && g.sinkLog(k) === log);
    if (writers.length === 0) {
      ctx.report('repartition-without-sink', ['nodes', node.index, 'name'], `repartition "${label(node)}" partitions records for log "${log}" but no sink writes them there`, `add a node { name: ${log.replace(/\W+/g, '-')}-sink, kind: sink, type: routing, input: ${label(node)} }`);
    }
    const key = ctx.options.get(node.index)?.['key'];
    const declared = ctx.logByName.get(log);
    if (typeof key === 'string' && declared !== undefined && declared.value.key !== undefined && declared.value.key !== key) {
      const explicit = (node.value.options ?? {})['key'] !== undefined;
      const path = explicit ? ['nodes', node.index, 'options', 'key'] : ['nodes', node.index, 'log'];
      ctx.report('log-key-mismatch', path, `repartition "${label(node)}" partitions by ${key} but log "${log}" declares key ${declared.value.key ?? 'none'}`, `make them equal: set key: ${key} on log "${log}" (logs[${declared.index}]), or change the repartition key`);
    }
  }
}

function planStage(g: Graph, stageIndex: number, source: NodeEntry): StagePlan {
  const { ctx } = g;
  const operators: NodeEntry[] = [];
  const midSinks: NodeEntry[] = [];
  let current = source;
  let finalSinks: NodeEntry[] = [];
  for (;;) {
    const kids = g.kids(current);
    const sinks = kids.filter((k) => k.value.kind === 'sink');
    const others = kids.filter((k) => k.value.kind !== 'sink');
    if (current.value.kind === 'repartition') {
      for (const o of others) {
        ctx.report('after-repartition', ['nodes', o.index, 'input'], `"${label(o)}" reads repartition "${label(current)}", but a repartition ends its stage`, `add a source node reading log "${current.value.log ?? '?'}" with its own stage, and make "${label(o)}" read that source`);
      }
      finalSinks = sinks;
      break;
    }
    const next = others[0];
    if (next === undefined) {
      finalSinks = sinks;
      break;
    }
    for (const o of others.slice(1)) {
      ctx.report('branching', ['nodes', o.index, 'input'], `"${label(o)}" and "${label(next)}" both read "${label(current)}"; a stage is a chain, it cannot branch`, `make "${label(o)}" read "${label(next)}" (or a later node), or split the stream with a repartition`);
    }
    midSinks.push(...sinks);
    operators.push(next);
    current = next;
  }
  for (const s of midSinks) {
    ctx.report('sink-mid-chain', ['nodes', s.index, 'input'], `sink "${label(s)}" reads "${g.parent.get(s.index)?.value.name ?? '?'}", which is not the last node of its stage`, `make it read "${label(current)}": sinks receive the output of the whole chain`);
  }
  if (finalSinks.length === 0) {
    ctx.report('stage-without-sink', ['nodes', current.index, 'name'], `stage "${ctx.stages[stageIndex]?.value.name ?? stageIndex}" ends at "${label(current)}" with no sink, so its records go nowhere`, `add a sink node with input: ${label(current)}`);
  }
  return {
    stage: stageIndex,
    source: source.index,
    operators: operators.map((o) => o.index),
    sinks: finalSinks.map((s) => ({ node: s.index, log: g.writesLog(s) ? (g.sinkLog(s) ?? null) : null })),
  };
}

function planStages(g: Graph): StagePlan[] {
  const { ctx } = g;
  const plans: StagePlan[] = [];
  ctx.stages.forEach((stage, i) => {
    const name = stage.value.name;
    if (name === undefined) return;
    const sources = ctx.nodes.filter((n) => n.value.kind === 'source' && n.value.stage === name);
    const first = sources[0];
    if (first === undefined) {
      ctx.report('stage-without-source', ['stages', stage.index, 'name'], `stage "${name}" has no source node`, `add a node { kind: source, log: <the log it reads>, stage: ${name} }, or remove the stage`);
      return;
    }
    for (const extra of sources.slice(1)) {
      ctx.report('stage-multiple-sources', ['nodes', extra.index, 'stage'], `stage "${name}" already starts at source "${label(first)}"; a stage has one source`, 'declare another stage for this source (one consumer group per source log)');
    }
    plans.push({ ...planStage(g, i, first), stage: i });
  });
  return plans;
}

function checkStageLoops(ctx: ValidationContext, plans: StagePlan[]): void {
  const readLog = (p: StagePlan) => ctx.nodes.find((n) => n.index === p.source)?.value.log;
  const next = (p: StagePlan) => plans.filter((q) => p.sinks.some((s) => s.log !== null && s.log === readLog(q)));
  for (const plan of plans) {
    const seen = new Set<StagePlan>();
    const queue = next(plan);
    while (queue.length > 0) {
      const q = queue.pop() as StagePlan;
      if (seen.has(q)) continue;
      seen.add(q);
      queue.push(...next(q));
    }
    if (seen.has(plan)) {
      const name = ctx.stages[plan.stage]?.value.name ?? '?';
      ctx.report('stage-cycle', ['nodes', plan.source, 'log'], `stage "${name}" reads log "${readLog(plan) ?? '?'}", which its own output reaches again`, 'records would loop forever: write the output to a log this stage does not read (directly or through other stages)');
    }
  }
}

/**
 * A `role: channel` stage reads its channel log straight into one `channel-delivery` sink (the
 * channel stage runtime sends, retries and dead-letters; it runs no operators), and a
 * `channel-delivery` sink belongs only in such a stage.
 */
function checkChannelStages(g: Graph, plans: StagePlan[]): void {
  const { ctx } = g;
  const typeOf = (index: number) => ctx.nodes.find((n) => n.index === index)?.value.type;
  for (const plan of plans) {
    const stage = ctx.stages[plan.stage]?.value;
    const name = stage?.name ?? '?';
    const isChannel = stage?.role === 'channel';
    const deliveries = plan.sinks.filter((s) => typeOf(s.node) === 'channel-delivery');
    if (!isChannel) {
      for (const s of deliveries) {
        ctx.report('channel-sink-outside-channel-stage', ['nodes', s.node, 'type'], `sink "${ctx.nodes.find((n) => n.index === s.node)?.value.name ?? '?'}" sends to a channel provider, but stage "${name}" has role ${stage?.role ?? 'job'}`, `give stage "${name}" role: channel (run by herald channel <name>), or read the channel log from a stage of its own`);
      }
      continue;
    }
    for (const op of plan.operators) {
      ctx.report('channel-stage-shape', ['nodes', op, 'input'], `stage "${name}" has role channel, which runs no operators`, 'make the channel-delivery sink read the stage\'s source directly; transform records in the stages that write the channel log');
    }
    const others = plan.sinks.filter((s) => typeOf(s.node) !== 'channel-delivery');
    if (deliveries.length !== 1 || others.length > 0) {
      ctx.report('channel-stage-shape', ['nodes', plan.source, 'name'], `stage "${name}" has role channel, so it needs exactly one channel-delivery sink and no other sink (found ${deliveries.length} channel-delivery, ${others.length} other)`, `keep one node { kind: sink, type: channel-delivery, input: <the source>, log: <its retry log>, options: { channel: … } }`);
    }
  }
}

/** Runs the graph checks and returns one plan per stage that has a source. */
export function checkGraph(ctx: ValidationContext): StagePlan[] {
  const g = new Graph(ctx);
  linkInputs(g);
  findCycles(g);
  findUnreachable(g);
  checkSinks(g);
  checkRepartitions(g);
  const plans = planStages(g);
  checkStageLoops(ctx, plans);
  checkChannelStages(g, plans);
  return plans;
}
