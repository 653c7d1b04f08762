/** The catalogue: the compiler validates types and options against it, and it can grow. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileTopology, createCatalog, defaultCatalog, findOperatorType, registerOperator, registerSink } from '../../../topology/index.ts';
import { issuesOf, node, validDoc } from './helpers.ts';
import { stringify } from 'yaml';

describe('topology catalogue', () => {
  it('holds the built-in operator and sink types', () => {
    expect(Object.keys(defaultCatalog.operators)).toEqual(['subscription-join', 'bloom-dedup', 'user-repartition']);
    expect(Object.keys(defaultCatalog.sinks)).toEqual(['routing', 'fanout-pages', 'edge-delivery', 'channel-routing', 'channel-delivery']);
    expect(defaultCatalog.sinks['channel-routing']).toMatchObject({ writesLog: true, ownLog: true });
    expect(defaultCatalog.sinks['routing']?.writesLog).toBe(true);
    expect(defaultCatalog.sinks['edge-delivery']?.writesLog).toBe(false);
  });

  it('does not treat Object.prototype members as types', () => {
    expect(findOperatorType(defaultCatalog, 'constructor')).toBeUndefined();
    const doc = validDoc();
    node(doc, 'dedup')['type'] = 'toString';
    expect(issuesOf(doc).map((i) => i.rule)).toContain('unknown-operator-type');
  });

  it('accepts a registered operator type and validates its options', () => {
    const catalog = createCatalog();
    registerOperator(catalog, 'rate-limit', {
      description: 'drops records above a rate',
      optionsSchema: z.strictObject({ per_second: z.int().min(1).default(100) }),
    });
    const doc = validDoc();
    doc['nodes'].splice(3, 0, { name: 'limit', kind: 'operator', type: 'rate-limit', input: 'dedup' });
    node(doc, 'by-user')['input'] = 'limit';
    const t = compileTopology(stringify(doc), undefined, { catalog });
    expect(t.stages[0]?.operators.map((o) => [o.name, o.options])).toContainEqual(['limit', { per_second: 100 }]);
    expect(issuesOf(doc).map((i) => i.rule)).toContain('unknown-operator-type');

    node(doc, 'limit')['options'] = { per_second: 0 };
    expect(issuesOf(doc, catalog).map((i) => [i.rule, i.path])).toEqual([['invalid-option', 'nodes[3].options.per_second']]);
  });

  it('refuses duplicate and badly named registrations', () => {
    const catalog = createCatalog();
    const entry = { description: 'x', optionsSchema: z.strictObject({}), writesLog: false };
    expect(() => registerSink(catalog, 'routing', entry)).toThrow(TypeError);
    expect(() => registerSink(catalog, 'Bad Name', entry)).toThrow(TypeError);
    registerSink(catalog, 'webhook', entry);
    expect(defaultCatalog.sinks['webhook']).toBeUndefined();
  });
});
