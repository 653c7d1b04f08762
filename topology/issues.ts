/**
 * Topology issues: one problem found in a topology file, where it is, and what to change.
 * Every check (YAML syntax, schema, semantics) reports issues; the compiler throws them all at
 * once. Also turns zod issues into topology issues with "did you mean" hints.
 */
import type { z } from 'zod';

/** A step in a path into the file: an object key or an array index. */
export type PathSegment = string | number;

/** A problem found before positions are known (validate.ts works on plain data). */
export interface PendingIssue {
  /** Stable rule id, e.g. `schema`, `unknown-input`, `cycle` (tests match on it, never on text). */
  rule: string;
  path: PathSegment[];
  /** Point at the key itself (unknown or forbidden keys) rather than its value. */
  at?: 'key' | 'value';
  /** What is wrong. */
  message: string;
  /** What to change. */
  hint: string;
}

/** A located issue, as listed in `HeraldError('HERALD_TOPOLOGY_INVALID').details`. */
export interface TopologyIssue {
  rule: string;
  /** e.g. `nodes[2].options.window_ms`; empty for the whole file. */
  path: string;
  message: string;
  hint: string;
  /** 1-based line and column in the file, or null when the place is unknown. */
  line: number | null;
  column: number | null;
}

/** `nodes[2].options.window_ms` from `['nodes', 2, 'options', 'window_ms']`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** One line: `file:line:col path: what is wrong — what to change`. */
export function formatIssue(file: string, issue: TopologyIssue): string {
  const where = issue.line === null ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  const path = issue.path === '' ? '' : ` ${issue.path}`;
  return `${where}${path}: ${issue.message} — ${issue.hint}`;
}

/** Levenshtein distance, for hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

/** The candidate closest to `word` when it is close enough to be a typo, else undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * A hint naming the candidate closest to `word`:
 * `did you mean "x"? (<noun>: a, b)`, else `<otherwise> (<noun>: a, b)`; then `, or <alternative>`
 * when given. With no candidates: `<alternative>`, or `there are no <noun>`.
 */
export function suggest(word: string, candidates: readonly string[], noun: string, options: { otherwise?: string; alternative?: string } = {}): string {
  const { otherwise = `use one of the ${noun}`, alternative } = options;
  if (candidates.length === 0) return alternative ?? `there are no ${noun}`;
  const near = closest(word, candidates);
  const list = `(${noun}: ${candidates.join(', ')})`;
  const head = near === undefined ? `${otherwise} ${list}` : `did you mean "${near}"? ${list}`;
  return alternative === undefined ? head : `${head}, or ${alternative}`;
}

interface ZodDefLike {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(schema: z.ZodType): ZodDefLike {
  return (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

/** The keys an object schema allows at `path` (through arrays, optional, default, nullable, unions). */
function knownKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let current: z.ZodType | undefined = schema;
  let i = 0;
  while (current !== undefined) {
    const def = defOf(current);
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === 'union') current = def.options?.find((o) => ['object', 'array'].includes(defOf(o).type));
    else if (i >= path.length) return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
    else if (def.type === 'object') current = def.shape?.[String(path[i++])];
    else if (def.type === 'array') {
      current = def.element;
      i++;
    } else return [];
  }
  return [];
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

const EXPECTED_WORDS: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  array: 'a list (- item lines)',
  record: 'a mapping (key: value lines)',
};

function convertOne(issue: z.core.$ZodIssue, schema: z.ZodType, prefix: readonly PathSegment[]): PendingIssue[] {
  const local = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
  const path = [...prefix, ...local];
  const input = (issue as { input?: unknown }).input;
  const rule = 'schema';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, local);
      return issue.keys.map((key) => ({
        rule: 'unknown-key',
        path: [...path, key],
        at: 'key' as const,
        message: `unknown key "${key}"`,
        hint: suggest(key, known, 'allowed keys', { otherwise: 'remove it, or use one of the allowed keys', alternative: known.length === 0 ? 'remove it' : undefined }),
      }));
    }
    case 'invalid_type': {
      const expected = EXPECTED_WORDS[issue.expected] ?? issue.expected;
      if (input === undefined) {
        const key = local.length > 0 ? String(local[local.length - 1]) : '';
        return [{ rule: 'missing-key', path, message: `"${key}" is required`, hint: `add ${key}: <${expected}>` }];
      }
      if (issue.expected === 'int' && typeof input === 'number') {
        return [{ rule, path, message: `must be an integer, got ${input}`, hint: `write a whole number, e.g. ${Math.round(input) || 1}` }];
      }
      if (typeof input === 'string' && /^[0-9][0-9_]*(\.[0-9]+)?$/.test(input) && input.includes('_')) {
        return [{ rule, path, message: `expected ${expected}, got the string "${input}"`, hint: `write ${input.replaceAll('_', '')}: YAML numbers have no "_" digit separators` }];
      }
      if (typeof input === 'string' && ['number', 'int'].includes(issue.expected) && input.trim() !== '' && Number.isFinite(Number(input))) {
        return [{ rule, path, message: `expected ${expected}, got the string "${input}"`, hint: `write ${input.trim()} without quotes` }];
      }
      return [{ rule, path, message: `expected ${expected}, got ${describeValue(input)}`, hint: `change it to ${expected}` }];
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => String(v));
      if (allowed.length === 1) {
        return [{ rule, path, message: `must be ${JSON.stringify(issue.values[0])}, got ${describeValue(input)}`, hint: `write ${String(issue.values[0])}` }];
      }
      const hint = typeof input === 'string' ? suggest(input, allowed, 'allowed values') : `use one of: ${allowed.join(', ')}`;
      return [{ rule, path, message: `${describeValue(input)} is not allowed`, hint }];
    }
    case 'too_small': {
      const bound = `${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}`;
      if (issue.origin === 'array') return [{ rule, path, message: `the list is empty`, hint: `add at least ${String(issue.minimum)} entry` }];
      if (issue.origin === 'string') return [{ rule, path, message: 'must not be empty', hint: 'write a value' }];
      return [{ rule, path, message: `must be ${bound}, got ${String(input)}`, hint: `use a value of ${bound}` }];
    }
    case 'too_big': {
      const bound = `${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
      return [{ rule, path, message: `must be ${bound}, got ${describeValue(input)}`, hint: `use a value of ${bound}` }];
    }
    case 'invalid_format':
      return [{ rule, path, message: `${describeValue(input)} ${issue.message}`, hint: 'rename it' }];
    case 'invalid_union':
      return [{ rule, path, message: `${describeValue(input)} is not valid here`, hint: 'write a node name, or a list with one node name' }];
    default:
      return [{ rule, path, message: issue.message, hint: 'fix the value' }];
  }
}

/**
 * Converts zod issues to pending topology issues. `schema` is the schema that produced them
 * (used for "did you mean" on unknown keys); `prefix` is where its input sits in the file
 * (e.g. `['nodes', 2, 'options']`).
 */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, prefix: readonly PathSegment[] = []): PendingIssue[] {
  return issues.flatMap((issue) => convertOne(issue, schema, prefix));
}
