/**
 * Summary of a V8 heap snapshot (`.heapsnapshot`, as written by `--heapsnapshot-signal`): bytes
 * and object counts by node type and constructor name, largest first. bench/edge.bench.ts uses it
 * (with --heap-snapshot) to say which objects an SSE connection keeps alive on the edge.
 */
import fs from 'node:fs';

/** One row: V8 node type (object, closure, string, …) and name (constructor or kind). */
export interface HeapRow {
  type: string;
  name: string;
  count: number;
  self_bytes: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * Reads `file` and groups its nodes by (type, name). Strings, code, numbers and regexps are
 * grouped by type only (their names are their contents).
 */
export function summarizeHeapSnapshot(file: string): { total_bytes: number; nodes: number; groups: Map<string, HeapRow> } {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const groups = new Map<string, HeapRow>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + fType]!] ?? '?';
    const size = snap.nodes[i + fSize]!;
    total += size;
    const byTypeOnly = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'code' || type === 'number' || type === 'regexp';
    const name = byTypeOnly ? '' : (snap.strings[snap.nodes[i + fName]!] ?? '?').slice(0, 60);
    const key = `${type}\u0000${name}`;
    const g = groups.get(key) ?? { type, name, count: 0, self_bytes: 0 };
    g.count++;
    g.self_bytes += size;
    groups.set(key, g);
  }
  return { total_bytes: total, nodes: snap.nodes.length / width, groups };
}

/** What `after` holds more than `before`, per unit of `per` (e.g. per connection), largest first. */
export function diffHeapSummaries(before: Map<string, HeapRow>, after: Map<string, HeapRow>, per: number, top = 20): { type: string; name: string; count_per_unit: number; bytes_per_unit: number }[] {
  const rows: { type: string; name: string; count_per_unit: number; bytes_per_unit: number }[] = [];
  for (const [key, a] of after) {
    const b = before.get(key);
    const bytes = a.self_bytes - (b?.self_bytes ?? 0);
    const count = a.count - (b?.count ?? 0);
    rows.push({ type: a.type, name: a.name, count_per_unit: +(count / per).toFixed(2), bytes_per_unit: +(bytes / per).toFixed(1) });
  }
  return rows.sort((x, y) => y.bytes_per_unit - x.bytes_per_unit).slice(0, top);
}
