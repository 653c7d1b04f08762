/** Helpers of the topology unit tests: compile text and return its issues; a mutable valid topology. */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { isHeraldError } from '../../../core/errors.ts';
import { compileTopology, DEFAULT_TOPOLOGY_FILE } from '../../../topology/index.ts';
import type { TopologyCatalog, TopologyIssue } from '../../../topology/index.ts';

/** The default topology file's text. */
export const DEFAULT_TEXT: string = readFileSync(DEFAULT_TOPOLOGY_FILE, 'utf8');

/** A fixture of test/fixtures/topology/, as text. */
export function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/topology/${name}`, import.meta.url), 'utf8');
}

/** A loosely typed topology document, for mutation. */
export type Doc = { [key: string]: any };

/** The default topology as plain data: a valid starting point each test mutates. */
export function validDoc(): Doc {
  return parse(DEFAULT_TEXT) as Doc;
}

/** Compiles `text` (or a document) and returns its issues ([] when it compiles). */
export function issuesOf(input: string | Doc, catalog?: TopologyCatalog): TopologyIssue[] {
  const text = typeof input === 'string' ? input : stringify(input);
  try {
    compileTopology(text, 'test.topology.yaml', catalog === undefined ? {} : { catalog });
    return [];
  } catch (err) {
    if (isHeraldError(err, 'HERALD_TOPOLOGY_INVALID')) return err.details as TopologyIssue[];
    throw err;
  }
}

/** The node of `doc` named `name`. */
export function node(doc: Doc, name: string): Doc {
  const found = (doc['nodes'] as Doc[]).find((n) => n['name'] === name);
  if (found === undefined) throw new Error(`no node ${name}`);
  return found;
}
