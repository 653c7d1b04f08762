/**
 * Reads topology YAML keeping source positions, so every issue can name its line and column.
 * Syntax errors become issues (rule `yaml-syntax`); keys that could reach an object's
 * prototype (`__proto__`, `constructor`, `prototype`) are reported (rule `forbidden-key`) and
 * removed from the data before any other check sees it.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { formatPath } from './issues.ts';
import type { PathSegment, PendingIssue, TopologyIssue } from './issues.ts';

/** Keys rejected anywhere in a topology file. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A 1-based place in the file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** The result of {@link parseTopologyYaml}. */
export interface ParsedTopologyYaml {
  /** Plain data (forbidden keys removed); undefined when the YAML has syntax errors. */
  data: unknown;
  /** Syntax errors and forbidden keys, located. */
  issues: TopologyIssue[];
  /**
   * The position of `path` in the file: its value, or its key when `at` is `key` (or the value
   * is empty). When the path does not exist, the position of its deepest existing ancestor.
   */
  locate(path: readonly PathSegment[], at?: 'key' | 'value'): SourcePosition | null;
  /** Converts pending issues (paths only) into located issues. */
  resolve(issues: readonly PendingIssue[]): TopologyIssue[];
}

function childPair(map: YamlNode, key: PathSegment) {
  if (!isMap(map)) return undefined;
  return map.items.find((pair) => isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(key));
}

/**
 * Removes prototype-changing keys, recording where they were, and reports whether the value
 * refers to itself (a recursive YAML alias). Iterative: deep or cyclic input cannot overflow.
 */
function stripForbidden(root: unknown, found: PathSegment[][]): { cyclic: boolean } {
  const onPath = new Set<object>();
  const stack: { value: unknown; path: PathSegment[]; leave?: object }[] = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path, leave } = stack.pop()!;
    if (leave !== undefined) {
      onPath.delete(leave);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (onPath.has(value)) return { cyclic: true };
    onPath.add(value);
    stack.push({ value: null, path, leave: value });
    const entries: [PathSegment, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) {
        found.push([...path, key]);
        delete (value as Record<string, unknown>)[key];
      } else {
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return { cyclic: false };
}

/**
 * Parses one YAML document. Never throws for bad input: problems come back as `issues`.
 * Duplicate keys and multiple documents are syntax errors.
 */
export function parseTopologyYaml(text: string): ParsedTopologyYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: true, uniqueKeys: true, strict: true });

  const position = (offset: number): SourcePosition => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  const locate = (path: readonly PathSegment[], at: 'key' | 'value' = 'value'): SourcePosition | null => {
    let node: unknown = doc.contents;
    let last: SourcePosition | null = null;
    const here = (n: unknown): SourcePosition | null => {
      const range = (n as { range?: [number, number, number] } | null)?.range;
      return range ? position(range[0]) : null;
    };
    last = here(node) ?? { line: 1, column: 1 };
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] as PathSegment;
      const isLast = i === path.length - 1;
      if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else if (isMap(node)) {
        const pair = childPair(node, seg);
        if (pair === undefined) return last;
        if ((isLast && at === 'key') || pair.value === null) return here(pair.key) ?? last;
        node = pair.value;
      } else {
        return last;
      }
      const pos = here(node);
      if (pos === null) return last;
      last = pos;
    }
    return last;
  };

  const resolve = (pending: readonly PendingIssue[]): TopologyIssue[] =>
    pending.map((p) => {
      const pos = locate(p.path, p.at);
      return { rule: p.rule, path: formatPath(p.path), message: p.message, hint: p.hint, line: pos?.line ?? null, column: pos?.column ?? null };
    });

  if (doc.errors.length > 0) {
    const issues = doc.errors.map((err): TopologyIssue => {
      const pos = err.linePos?.[0] ?? (err.pos[0] >= 0 ? lineCounter.linePos(err.pos[0]) : null);
      const firstLine = err.message.split('\n')[0] ?? err.message;
      const message = firstLine.replace(/ at line \d+, column \d+:?$/, '');
      return { rule: 'yaml-syntax', path: '', message: `YAML syntax error (${err.code}): ${message}`, hint: 'fix the YAML at this line (indentation, quotes, brackets, duplicate keys)', line: pos?.line ?? null, column: pos?.col ?? null };
    });
    return { data: undefined, issues, locate, resolve };
  }

  const aliasIssue = (message: string): ParsedTopologyYaml => ({
    data: undefined,
    issues: [{ rule: 'yaml-alias', path: '', message: `YAML aliases: ${message}`, hint: 'write the values out instead of using anchors (&) and aliases (*)', line: null, column: null }],
    locate,
    resolve,
  });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return aliasIssue((err as Error).message);
  }
  const forbidden: PathSegment[][] = [];
  if (stripForbidden(data, forbidden).cyclic) return aliasIssue('an alias refers to a node that contains it (a recursive structure)');
  const issues = resolve(
    forbidden.map((path) => ({
      rule: 'forbidden-key',
      path,
      at: 'key' as const,
      message: `the key "${String(path[path.length - 1])}" is not allowed (it could change object prototypes)`,
      hint: 'remove or rename it',
    })),
  );
  return { data, issues, locate, resolve };
}
