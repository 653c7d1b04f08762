/**
 * Human-readable views of a compiled topology: `explainTopology` (text for
 * `herald topology explain`) and `topologyToMermaid` (a Mermaid flowchart for
 * `herald topology graph`). The JSON view is the CompiledTopology itself.
 */
import type { CompiledLog, CompiledTopology } from './types.ts';

const UNITS: [number, string][] = [
  [86_400_000, 'day'], // ms per day
  [3_600_000, 'hour'], // ms per hour
  [60_000, 'minute'], // ms per minute
  [1_000, 'second'], // ms per second
];

/** `7 days`, `90 minutes`, `1500 ms`: the largest unit that divides `ms` exactly. */
export function formatDuration(ms: number): string {
  for (const [size, unit] of UNITS) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

function partitions(n: number): string {
  return `${n} partition${n === 1 ? '' : 's'}`;
}

function formatOptions(options: Record<string, unknown>): string {
  const parts = Object.entries(options).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length === 0 ? '' : `  ${parts.join(' ')}`;
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

function logRow(log: CompiledLog): string[] {
  return [
    log.name,
    partitions(log.partitions),
    log.key === null ? 'no key' : `key ${log.key}`,
    `retention ${formatDuration(log.retentionMs)} (${log.retentionMs} ms)`,
  ];
}

/**
 * A multi-line description: the log topics (partitions, key, retention), then each stage (role,
 * consumer group, source log and partition count, operators in order with their options, sinks
 * and the logs they write, error policy and batch size). Ends with a newline.
 */
export function explainTopology(topology: CompiledTopology): string {
  const out: string[] = [];
  out.push(`Topology "${topology.name}" (version ${topology.version})${topology.file === null ? '' : ` from ${topology.file}`}`);
  out.push(`${topology.stages.length} stage${topology.stages.length === 1 ? '' : 's'}, ${topology.logs.length} log topic${topology.logs.length === 1 ? '' : 's'}`);
  out.push('', 'Log topics');
  out.push(...table(topology.logs.map(logRow)).map((l) => `  ${l}`));
  const partitionsOf = (log: string) => topology.logs.find((l) => l.name === log)?.partitions ?? 0;
  for (const stage of topology.stages) {
    out.push('', `Stage ${stage.name}: role ${stage.role}, consumer group ${stage.consumerGroup}`);
    const rows: string[][] = [['source', stage.source.name, `reads ${stage.source.log} (${partitions(stage.source.partitions)}): up to ${stage.source.partitions} members share it`]];
    stage.operators.forEach((op, i) => rows.push([`${i + 1}. operator`, op.name, `${op.type}${formatOptions(op.options)}`]));
    for (const sink of stage.sinks) {
      const writes = sink.log === null ? '' : ` → writes ${sink.log} (${partitions(partitionsOf(sink.log))})`;
      rows.push(['sink', sink.name, `${sink.type}${writes}${formatOptions(sink.options)}`]);
    }
    const dlq = stage.deadLetterLog === null ? 'no dead-letter log' : `dead-letter log ${stage.deadLetterLog}`;
    rows.push(['errors', stage.errorPolicy, dlq]);
    rows.push(['batches', `up to ${stage.maxBatchRecords} records`]);
    out.push(...table(rows).map((l) => `  ${l}`));
  }
  return `${out.join('\n')}\n`;
}

function id(prefix: string, name: string): string {
  return `${prefix}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

function text(s: string): string {
  return `"${s.replaceAll('"', '#quot;').replaceAll('\n', '<br/>')}"`;
}

/**
 * A Mermaid flowchart (left to right): log topics as cylinders, one subgraph per stage with its
 * source, operators and sinks as a chain, arrows from logs into sources and from sinks to the
 * logs they write. Ends with a newline.
 */
export function topologyToMermaid(topology: CompiledTopology): string {
  const out = ['flowchart LR'];
  for (const log of topology.logs) {
    out.push(`  ${id('log', log.name)}[(${text(`${log.name}\n${partitions(log.partitions)}${log.key === null ? '' : `, key ${log.key}`}`)})]`);
  }
  for (const stage of topology.stages) {
    out.push(`  subgraph ${id('stage', stage.name)}[${text(`stage ${stage.name} · ${stage.consumerGroup}`)}]`);
    const chain = [
      { key: id('node', stage.source.name), label: `${stage.source.name}\nsource` },
      ...stage.operators.map((op) => ({ key: id('node', op.name), label: `${op.name}\n${op.type}` })),
    ];
    for (const n of chain) out.push(`    ${n.key}[${text(n.label)}]`);
    for (const sink of stage.sinks) out.push(`    ${id('node', sink.name)}[/${text(`${sink.name}\n${sink.type}`)}/]`);
    for (let i = 1; i < chain.length; i++) out.push(`    ${chain[i - 1]?.key} --> ${chain[i]?.key}`);
    const last = chain[chain.length - 1]?.key;
    for (const sink of stage.sinks) out.push(`    ${last} --> ${id('node', sink.name)}`);
    out.push('  end');
    out.push(`  ${id('log', stage.source.log)} --> ${id('node', stage.source.name)}`);
    for (const sink of stage.sinks) if (sink.log !== null) out.push(`  ${id('node', sink.name)} --> ${id('log', sink.log)}`);
    if (stage.deadLetterLog !== null) out.push(`  ${id('stage', stage.name)} -. ${stage.errorPolicy} .-> ${id('log', stage.deadLetterLog)}`);
  }
  return `${out.join('\n')}\n`;
}
