/**
 * Shared state of one validation run: the file's entries read leniently (each field kept when it
 * alone is valid, so one bad field does not hide the checks on the others), name indexes and the
 * issue list every check appends to.
 */
import type { z } from 'zod';
import type { TopologyCatalog } from './catalog.ts';
import type { PathSegment, PendingIssue } from './issues.ts';
import type { LogSpec, NodeSpec, StageSpec } from './schema.ts';

/** One entry of a list section (`logs`, `stages`, `nodes`), by position in the file. */
export interface Entry<T> {
  /** Index in its list. */
  index: number;
  /** The fields that are valid on their own (defaults applied). */
  value: Partial<T>;
  /** The raw mapping as written (forbidden keys already removed). */
  raw: Record<string, unknown>;
}

/** Everything the checks share. */
export interface ValidationContext {
  catalog: TopologyCatalog;
  logs: Entry<LogSpec>[];
  stages: Entry<StageSpec>[];
  nodes: Entry<NodeSpec>[];
  /** First entry of each name (duplicates are reported, later ones ignored). */
  logByName: Map<string, Entry<LogSpec>>;
  stageByName: Map<string, Entry<StageSpec>>;
  nodeByName: Map<string, Entry<NodeSpec>>;
  /** Validated options (defaults applied) by node index, for nodes whose type and options are valid. */
  options: Map<number, Record<string, unknown>>;
  issues: PendingIssue[];
  /** Appends an issue. */
  report(rule: string, path: PathSegment[], message: string, hint: string, at?: 'key' | 'value'): void;
}

/**
 * Reads a list section leniently: each field of each entry is parsed alone with its own schema.
 * Returns [] when `raw` is not a list (the file schema reports that).
 */
export function readEntries<T>(raw: unknown, schema: z.ZodObject): Entry<T>[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item: unknown, index): Entry<T>[] => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return [];
    const record = item as Record<string, unknown>;
    const value: Record<string, unknown> = {};
    for (const [key, fieldSchema] of Object.entries(schema.shape)) {
      const parsed = (fieldSchema as z.ZodType).safeParse(record[key]);
      if (parsed.success && parsed.data !== undefined) value[key] = parsed.data;
    }
    return [{ index, value: value as Partial<T>, raw: record }];
  });
}

/** Indexes entries by `name`, keeping the first of each. */
export function indexByName<T extends { name: string }>(entries: Entry<T>[]): Map<string, Entry<T>> {
  const map = new Map<string, Entry<T>>();
  for (const entry of entries) {
    const name = entry.value.name;
    if (name !== undefined && !map.has(name)) map.set(name, entry);
  }
  return map;
}
