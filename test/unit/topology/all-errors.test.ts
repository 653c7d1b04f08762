/** An invalid file reports every problem at once, each with its line and column. */
import { describe, expect, it } from 'vitest';
import { isHeraldError } from '../../../core/errors.ts';
import { compileTopology, loadTopology } from '../../../topology/index.ts';
import type { TopologyIssue } from '../../../topology/index.ts';
import { fixture, issuesOf } from './helpers.ts';

describe('error reporting', () => {
  it('lists every problem of an invalid file with correct positions', () => {
    const issues = issuesOf(fixture('many-errors.topology.yaml'));
    expect(issues.map((i) => [i.line, i.column, i.path, i.rule])).toEqual([
      [6, 17, 'logs[0].partitions', 'schema'],
      [10, 5, 'logs[1].retension_ms', 'unknown-key'],
      [13, 19, 'stages[0].error_policy', 'dead-letter-without-dlq'],
      [14, 11, 'stages[1].name', 'stage-without-source'],
      [20, 11, 'nodes[1].name', 'stage-without-sink'],
      [22, 11, 'nodes[1].type', 'unknown-operator-type'],
      [27, 12, 'nodes[2].input', 'unknown-input'],
      [29, 7, 'nodes[2].options.windw_ms', 'unknown-option'],
      [30, 16, 'nodes[2].options.windows', 'invalid-option'],
      [34, 12, 'nodes[3].input', 'branching'],
      [35, 10, 'nodes[3].log', 'repartition-log-undeclared'],
      [36, 11, 'nodes[4].name', 'duplicate-node'],
    ]);
  });

  it('throws one HERALD_TOPOLOGY_INVALID whose message has one `file:line:col path: problem — fix` line per issue', () => {
    let error: unknown;
    try {
      compileTopology(fixture('many-errors.topology.yaml'), 'many-errors.topology.yaml');
    } catch (err) {
      error = err;
    }
    expect(isHeraldError(error, 'HERALD_TOPOLOGY_INVALID')).toBe(true);
    if (!isHeraldError(error)) return;
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('topology many-errors.topology.yaml has 12 problems:');
    expect(lines).toHaveLength(13);
    expect(lines[2]).toBe('  many-errors.topology.yaml:10:5 logs[1].retension_ms: unknown key "retension_ms" — did you mean "retention_ms"? (allowed keys: name, partitions, key, retention_ms, description)');
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}many-errors\.topology\.yaml:\d+:\d+ \S+: .+ — .+$/);
    expect((error.details as TopologyIssue[]).length).toBe(12);
  });

  it('reports a YAML syntax error with its line', () => {
    const issues = issuesOf(fixture('yaml-syntax-error.topology.yaml'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ rule: 'yaml-syntax', line: 9, column: 1 });
    expect(issues[0]?.message).toContain('YAML syntax error');
  });

  it('reports a duplicate YAML key as a syntax error with its line', () => {
    const issues = issuesOf(fixture('duplicate-key.topology.yaml'));
    expect(issues.map((i) => [i.rule, i.line])).toEqual([['yaml-syntax', 6]]);
    expect(issues[0]?.message).toContain('unique');
  });

  it('names the file in messages, or <topology> without one', () => {
    expect(() => compileTopology('version: 1')).toThrow(/^topology <topology> has \d+ problems:\n {2}<topology>:1:1 /);
  });

  it('throws HERALD_TOPOLOGY_NOT_FOUND for a missing file', async () => {
    await expect(loadTopology('/nonexistent/herald.topology.yaml')).rejects.toMatchObject({ code: 'HERALD_TOPOLOGY_NOT_FOUND' });
  });
});
