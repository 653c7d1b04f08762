/** One test per validation rule: each mutates the valid default topology in one way. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEXT, issuesOf, node, validDoc } from './helpers.ts';
import type { Doc } from './helpers.ts';
import type { TopologyIssue } from '../../../topology/index.ts';

function only(issues: TopologyIssue[], rule: string): TopologyIssue {
  const matching = issues.filter((i) => i.rule === rule);
  expect(matching, JSON.stringify(issues, null, 2)).toHaveLength(1);
  return matching[0] as TopologyIssue;
}

/** Index of a node or stage appended to the default topology. */
const N = (validDoc()['nodes'] as unknown[]).length;
const S = (validDoc()['stages'] as unknown[]).length;

function mutated(change: (doc: Doc) => void): TopologyIssue[] {
  const doc = validDoc();
  change(doc);
  return issuesOf(doc);
}

describe('topology validation rules', () => {
  it('the default topology has no issues', () => {
    expect(mutated(() => {})).toEqual([]);
  });

  describe('keys', () => {
    it('rejects __proto__ anywhere, with its line', () => {
      const text = 'version: 1\nname: x\n__proto__:\n  polluted: true\nlogs: []\n';
      const issue = only(issuesOf(text), 'forbidden-key');
      expect(issue).toMatchObject({ path: '__proto__', line: 3, column: 1 });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('rejects constructor inside options', () => {
      const issues = mutated((d) => (node(d, 'dedup')['options']['constructor'] = 1));
      expect(only(issues, 'forbidden-key').path).toBe('nodes[2].options.constructor');
    });

    it('rejects unknown keys with a did-you-mean hint', () => {
      const issues = mutated((d) => (d['logs'][0]['partiton'] = 3));
      const issue = only(issues, 'unknown-key');
      expect(issue.path).toBe('logs[0].partiton');
      expect(issue.hint).toContain('did you mean "partitions"');
    });

    it('reports a missing required key', () => {
      const issues = mutated((d) => delete d['logs'][1]['partitions']);
      expect(only(issues, 'missing-key')).toMatchObject({ path: 'logs[1].partitions', message: '"partitions" is required' });
    });
  });

  describe('values', () => {
    it.each([
      [0, 'must be at least 1'],
      [-3, 'must be at least 1'],
      [1.5, 'must be an integer'],
      ['12', 'expected a number, got the string "12"'],
    ])('partitions %j is not a positive integer', (value, text) => {
      const issues = mutated((d) => (d['logs'][0]['partitions'] = value));
      expect(issues.map((i) => [i.path, i.rule])).toEqual([['logs[0].partitions', 'schema']]);
      expect(issues[0]?.message).toContain(text);
    });

    it('explains that YAML has no digit separators', () => {
      const text = issuesOf(DEFAULT_TEXT.replace('window_ms: 600000', 'window_ms: 600_000'));
      const issue = only(text, 'invalid-option');
      expect(issue.path).toBe('nodes[2].options.window_ms');
      expect(issue.hint).toContain('write 600000');
    });

    it('rejects version 2', () => {
      expect(mutated((d) => (d['version'] = 2)).map((i) => i.path)).toEqual(['version']);
    });

    it('rejects an unknown error policy with a hint', () => {
      const issue = only(mutated((d) => (d['stages'][0]['error_policy'] = 'dead_letter')), 'schema');
      expect(issue.hint).toContain('did you mean "dead-letter"');
    });

    it('reports an empty file', () => {
      expect(issuesOf('').map((i) => [i.rule, i.line])).toEqual([['empty-file', 1]]);
      expect(issuesOf('# only a comment\n').map((i) => i.rule)).toEqual(['empty-file']);
    });
  });

  describe('names', () => {
    it('duplicate log names', () => {
      expect(only(mutated((d) => (d['logs'][2]['name'] = 'herald.user')), 'duplicate-log').path).toBe('logs[2].name');
    });
    it('duplicate stage names', () => {
      const issues = mutated((d) => {
        d['stages'][1]['name'] = 'fanout';
      });
      expect(only(issues, 'duplicate-stage').path).toBe('stages[1].name');
    });
    it('duplicate node names', () => {
      expect(only(mutated((d) => (node(d, 'deliver')['name'] = 'dedup')), 'duplicate-node').path).toBe('nodes[11].name');
    });
    it('duplicate consumer groups', () => {
      expect(only(mutated((d) => (d['stages'][1]['consumer_group'] = 'herald.fanout')), 'duplicate-consumer-group').path).toBe('stages[1].consumer_group');
    });
  });

  describe('stages and logs', () => {
    it('dead-letter policy without a DLQ log', () => {
      const issue = only(mutated((d) => delete d['stages'][0]['dead_letter_log']), 'dead-letter-without-dlq');
      expect(issue.path).toBe('stages[0].error_policy');
      expect(issue.hint).toContain('herald.dlq');
    });
    it('a dead-letter log that is not declared', () => {
      expect(only(mutated((d) => (d['stages'][0]['dead_letter_log'] = 'herald.dead')), 'dead-letter-log-undeclared').path).toBe('stages[0].dead_letter_log');
    });
    it('a stage with no source', () => {
      const issues = mutated((d) => d['stages'].push({ name: 'orphan' }));
      expect(only(issues, 'stage-without-source').path).toBe(`stages[${S}].name`);
    });
    it('a stage with two sources', () => {
      const issues = mutated((d) => d['nodes'].push({ name: 'second', kind: 'source', log: 'herald.publish', stage: 'fanout' }));
      expect(only(issues, 'stage-multiple-sources').path).toBe(`nodes[${N}].stage`);
    });
    it('a source naming an undeclared stage', () => {
      expect(only(mutated((d) => (node(d, 'publishes')['stage'] = 'fan-out')), 'source-stage-undeclared').hint).toContain('did you mean "fanout"');
    });
    it('a source reading a log no one declares', () => {
      const issue = only(mutated((d) => (node(d, 'publishes')['log'] = 'herald.publishes')), 'source-log-undeclared');
      expect(issue.path).toBe('nodes[0].log');
      expect(issue.hint).toContain('did you mean "herald.publish"');
    });
    it('a repartition writing an undeclared log', () => {
      expect(only(mutated((d) => (node(d, 'by-user')['log'] = 'herald.users')), 'repartition-log-undeclared').path).toBe('nodes[3].log');
    });
    it('a sink writing an undeclared log', () => {
      const issues = mutated((d) => (node(d, 'user-log')['log'] = 'herald.other'));
      expect(only(issues, 'sink-log-undeclared').path).toBe('nodes[4].log');
    });
    it('a log key that does not match the repartition key', () => {
      // Both repartitions into herald.user (stages fanout and fanout-pages) disagree with it.
      const issues = mutated((d) => (d['logs'][1]['key'] = 'topic_id')).filter((i) => i.rule === 'log-key-mismatch');
      expect(issues.map((i) => i.path)).toEqual(['nodes[3].options.key', 'nodes[8].options.key']);
      expect(issues[0]?.message).toContain('partitions by user_id but log "herald.user" declares key topic_id');
    });
    it('a stage whose output reaches its own source log', () => {
      // fanout would read herald.user and feed fanout-pages, which writes herald.user: both loop.
      const issues = mutated((d) => (node(d, 'publishes')['log'] = 'herald.user'));
      expect(issues.filter((i) => i.rule === 'stage-cycle').map((i) => i.path)).toEqual(['nodes[0].log', 'nodes[6].log']);
    });
  });

  describe('nodes', () => {
    it('a kind that does not exist', () => {
      expect(only(mutated((d) => (node(d, 'dedup')['kind'] = 'processor')), 'schema').path).toBe('nodes[2].kind');
    });
    it('a required field missing for the kind', () => {
      const issue = only(mutated((d) => delete node(d, 'dedup')['type']), 'node-field-missing');
      expect(issue).toMatchObject({ path: 'nodes[2]', message: 'a operator node needs "type"' });
    });
    it('a field the kind does not allow', () => {
      expect(only(mutated((d) => (node(d, 'dedup')['stage'] = 'fanout')), 'node-field-not-allowed').path).toBe('nodes[2].stage');
    });
    it('an unknown operator type', () => {
      const issue = only(mutated((d) => (node(d, 'dedup')['type'] = 'bloom-dedupe')), 'unknown-operator-type');
      expect(issue.hint).toContain('did you mean "bloom-dedup"');
    });
    it('an unknown sink type', () => {
      expect(only(mutated((d) => (node(d, 'deliver')['type'] = 'sse')), 'unknown-sink-type').path).toBe('nodes[11].type');
    });
    it('a repartitioning type used as a plain operator', () => {
      const issues = mutated((d) => {
        node(d, 'by-user')['kind'] = 'operator';
        delete node(d, 'by-user')['log'];
      });
      expect(only(issues, 'repartition-kind-mismatch').path).toBe('nodes[3].kind');
    });
    it('an invalid option value', () => {
      const issue = only(mutated((d) => (node(d, 'dedup')['options']['false_positive_rate'] = 2)), 'invalid-option');
      expect(issue.path).toBe('nodes[2].options.false_positive_rate');
    });
    it('an unknown option', () => {
      const issue = only(mutated((d) => (node(d, 'dedup')['options']['windw_ms'] = 1)), 'unknown-option');
      expect(issue.hint).toContain('did you mean "window_ms"');
    });
    it('an input that names no node', () => {
      const issue = only(mutated((d) => (node(d, 'dedup')['input'] = 'subscriber')), 'unknown-input');
      expect(issue).toMatchObject({ path: 'nodes[2].input' });
      expect(issue.hint).toContain('did you mean "subscribers"');
    });
    it('more than one input', () => {
      expect(only(mutated((d) => (node(d, 'dedup')['input'] = ['subscribers', 'publishes'])), 'multiple-inputs').path).toBe('nodes[2].input');
    });
    it('a node reading a sink', () => {
      const issues = mutated((d) => d['nodes'].push({ name: 'after', kind: 'sink', type: 'edge-delivery', input: 'deliver' }));
      expect(only(issues, 'input-is-sink').path).toBe(`nodes[${N}].input`);
    });
    it('a cycle', () => {
      const issues = mutated((d) => (node(d, 'subscribers')['input'] = 'dedup'));
      const issue = only(issues, 'cycle');
      expect(issue.message).toMatch(/subscribers → dedup → subscribers|dedup → subscribers → dedup/);
    });
    it('a node not reachable from any source', () => {
      const issues = mutated((d) => {
        node(d, 'subscribers')['input'] = 'dedup';
        d['nodes'].push({ name: 'dangling', kind: 'sink', type: 'routing', input: 'dedup', log: 'herald.dlq' });
      });
      // by-user and every sink reading it (user log, pages, channel routing), and the dangling sink.
      const readers = (validDoc()['nodes'] as Doc[]).flatMap((n, i) => (n['input'] === 'by-user' ? [`nodes[${i}].name`] : []));
      expect(issues.filter((i) => i.rule === 'unreachable').map((i) => i.path)).toEqual(['nodes[3].name', ...readers, `nodes[${N}].name`]);
    });
    it('a node after a repartition', () => {
      const issues = mutated((d) => d['nodes'].push({ name: 'late', kind: 'operator', type: 'bloom-dedup', input: 'by-user' }));
      expect(only(issues, 'after-repartition').path).toBe(`nodes[${N}].input`);
    });
    it('a repartition with no sink writing its log', () => {
      const issues = mutated((d) => (d['nodes'] = d['nodes'].filter((n: Doc) => n['name'] !== 'user-log')));
      expect(only(issues, 'repartition-without-sink').path).toBe('nodes[3].name');
    });
    it('a sink writing another log than its repartition', () => {
      expect(only(mutated((d) => (node(d, 'user-log')['log'] = 'herald.dlq')), 'sink-log-mismatch').path).toBe('nodes[4].log');
    });
    it('a log-writing sink with no log to write', () => {
      const issues = mutated((d) => d['nodes'].push({ name: 'copy', kind: 'sink', type: 'routing', input: 'user-notifications' }));
      expect(only(issues, 'node-field-missing').path).toBe(`nodes[${N}]`);
    });
    it('a fanout-pages sink without its own log', () => {
      const issue = only(mutated((d) => delete node(d, 'pages')['log']), 'node-field-missing');
      expect(issue).toMatchObject({ path: 'nodes[5]' });
      expect(issue.message).toContain('writes a log of its own');
    });
    it('a fanout-pages sink may write another log than the repartition it reads (no mismatch)', () => {
      expect(mutated((d) => (node(d, 'pages')['log'] = 'herald.fanout-pages')).filter((i) => i.rule === 'sink-log-mismatch')).toEqual([]);
    });
    it('a branching stage', () => {
      const issues = mutated((d) => d['nodes'].push({ name: 'branch', kind: 'operator', type: 'bloom-dedup', input: 'subscribers' }));
      expect(only(issues, 'branching').path).toBe(`nodes[${N}].input`);
    });
    it('a sink in the middle of a chain', () => {
      const issues = mutated((d) => d['nodes'].push({ name: 'peek', kind: 'sink', type: 'routing', input: 'subscribers', log: 'herald.dlq' }));
      const issue = only(issues, 'sink-mid-chain');
      expect(issue.hint).toContain('make it read "by-user"');
    });
    it('a channel-delivery sink in a stage that is not role: channel', () => {
      const issues = mutated((d) => {
        const send = node(d, 'send-email');
        send['input'] = 'user-notifications';
        d['nodes'] = d['nodes'].filter((n: Doc) => n['name'] !== 'email-sends');
        d['stages'] = d['stages'].filter((st: Doc) => st['name'] !== 'email');
      });
      const issue = only(issues, 'channel-sink-outside-channel-stage');
      expect(issue.message).toContain('stage "edge" has role edge');
    });
    it('a role: channel stage with an operator, or without its channel-delivery sink', () => {
      const withOperator = mutated((d) => {
        d['nodes'].push({ name: 'filter', kind: 'operator', type: 'bloom-dedup', input: 'sms-sends' });
        node(d, 'send-sms')['input'] = 'filter';
      });
      expect(only(withOperator, 'channel-stage-shape').path).toBe(`nodes[${N}].input`);
      const withRouting = mutated((d) => {
        node(d, 'send-sms')['type'] = 'routing';
        delete node(d, 'send-sms')['options'];
      });
      expect(only(withRouting, 'channel-stage-shape').message).toContain('found 0 channel-delivery, 1 other');
    });
    it('a stage with no sink', () => {
      const issues = mutated((d) => (d['nodes'] = d['nodes'].filter((n: Doc) => n['name'] !== 'deliver')));
      expect(only(issues, 'stage-without-sink').path).toBe('nodes[10].name');
    });
  });
});
