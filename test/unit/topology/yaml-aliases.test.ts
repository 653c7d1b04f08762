import { describe, expect, it } from 'vitest';
import { compileTopology } from '../../../topology/index.ts';

function issuesOf(text: string): { rule: string; message: string }[] {
  try {
    compileTopology(text, 'aliases.yaml');
  } catch (err) {
    expect((err as { code?: string }).code).toBe('HERALD_TOPOLOGY_INVALID');
    return (err as { details: { rule: string; message: string }[] }).details;
  }
  throw new Error('expected HERALD_TOPOLOGY_INVALID');
}

describe('YAML aliases in topology files', () => {
  it('reports a recursive alias instead of overflowing the stack', () => {
    const issues = issuesOf('a: &a [*a]\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ rule: 'yaml-alias', message: expect.stringContaining('recursive') });
  });

  it('reports an alias bomb instead of expanding it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const issues = issuesOf(lines.join('\n'));
    expect(issues[0]).toMatchObject({ rule: 'yaml-alias' });
  });

  it('handles deeply nested values without overflowing', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(issuesOf(`version: 1\nname: x\nlogs: ${deep}\n`).length).toBeGreaterThan(0);
  });
});
