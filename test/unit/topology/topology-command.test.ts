import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTopologyCommand } from '../../../cli/topology-command.ts';
import { DEFAULT_TOPOLOGY_FILE } from '../../../topology/index.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/topology/${name}`, import.meta.url));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runTopologyCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('herald topology', () => {
  it('validate prints OK and a summary for a valid file', async () => {
    const r = await run('validate', DEFAULT_TOPOLOGY_FILE);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK .*notifications\.topology\.yaml: topology "notifications": 9 stages \[fanout \(herald\.fanout, herald\.publish × 12\), fanout-pages \(herald\.fanout-pages, herald\.fanout-pages × 12\), edge \(herald\.edge, herald\.user × 12\), email \(herald\.channel\.email, herald\.channel\.email × 6\), sms \(herald\.channel\.sms, herald\.channel\.sms × 6\), push \(herald\.channel\.push, herald\.channel\.push × 6\), email-critical \(herald\.channel\.email\.critical, herald\.channel\.email\.critical × 3\), sms-critical \(herald\.channel\.sms\.critical, herald\.channel\.sms\.critical × 3\), push-critical \(herald\.channel\.push\.critical, herald\.channel\.push\.critical × 3\)\], 14 log topics\n$/);
    expect(r.err).toBe('');
  });

  it('validate defaults to jobs/notifications.topology.yaml', async () => {
    expect((await run('validate')).code).toBe(0);
  });

  it('validate prints every problem and exits 1', async () => {
    const r = await run('validate', fixture('many-errors.topology.yaml'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('HERALD_TOPOLOGY_INVALID');
    expect(r.err.split('\n').filter((l) => /many-errors\.topology\.yaml:\d+:\d+ /.test(l))).toHaveLength(12);
    expect(r.out).toBe('');
  });

  it('exits 1 with HERALD_TOPOLOGY_NOT_FOUND for a missing file', async () => {
    const r = await run('explain', '/nonexistent.topology.yaml');
    expect(r.code).toBe(1);
    expect(r.err).toContain('HERALD_TOPOLOGY_NOT_FOUND');
  });

  it('explain prints the description, --json the compiled topology', async () => {
    const text = await run('explain', DEFAULT_TOPOLOGY_FILE);
    expect(text.code).toBe(0);
    expect(text.out).toContain('Stage fanout: role job, consumer group herald.fanout');
    const json = await run('explain', DEFAULT_TOPOLOGY_FILE, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out).stages.map((s: { name: string }) => s.name)).toEqual(['fanout', 'fanout-pages', 'edge', 'email', 'sms', 'push', 'email-critical', 'sms-critical', 'push-critical']);
  });

  it('graph prints a Mermaid flowchart', async () => {
    const r = await run('graph', DEFAULT_TOPOLOGY_FILE);
    expect(r.code).toBe(0);
    expect(r.out.startsWith('flowchart LR')).toBe(true);
  });

  it('--help exits 0; usage errors exit 2', async () => {
    expect((await run('--help')).code).toBe(0);
    expect((await run('validate', '--help')).out).toContain('Usage: herald topology');
    expect((await run()).code).toBe(2);
    expect((await run('lint', DEFAULT_TOPOLOGY_FILE)).code).toBe(2);
    expect((await run('validate', '--strict', DEFAULT_TOPOLOGY_FILE)).code).toBe(2);
    expect((await run('graph', '--json', DEFAULT_TOPOLOGY_FILE)).code).toBe(2);
    expect((await run('validate', 'a.yaml', 'b.yaml')).code).toBe(2);
  });
});
