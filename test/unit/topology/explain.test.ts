import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY_FILE, explainTopology, formatDuration, loadTopology, topologyToMermaid } from '../../../topology/index.ts';

describe('explain', () => {
  it('describes stages, consumer groups, operators in order, sinks and log topics', async () => {
    const text = explainTopology(await loadTopology(DEFAULT_TOPOLOGY_FILE));
    expect(text).toContain('Stage fanout: role job, consumer group herald.fanout');
    expect(text).toContain('Stage edge: role edge, consumer group herald.edge');
    expect(text).toMatch(/source\s+publishes\s+reads herald\.publish \(12 partitions\)/);
    expect(text).toMatch(/1\. operator\s+subscribers\s+subscription-join/);
    expect(text).toMatch(/2\. operator\s+dedup\s+bloom-dedup {2}key=idempotency_key window_ms=600000 windows=6/);
    expect(text).toMatch(/3\. operator\s+by-user\s+user-repartition {2}key=user_id/);
    expect(text).toMatch(/sink\s+user-log\s+routing → writes herald\.user \(12 partitions\)/);
    expect(text).toMatch(/herald\.publish\s+12 partitions\s+key topic_id\s+retention 7 days \(604800000 ms\)/);
    expect(text).toMatch(/herald\.dlq\s+1 partition\s+no key\s+retention 14 days/);
    expect(text.indexOf('subscription-join')).toBeLessThan(text.indexOf('bloom-dedup'));
  });

  it('draws a Mermaid flowchart with a subgraph per stage', async () => {
    const graph = topologyToMermaid(await loadTopology(DEFAULT_TOPOLOGY_FILE));
    expect(graph.startsWith('flowchart LR\n')).toBe(true);
    expect(graph).toContain('subgraph stage_fanout');
    expect(graph).toContain('node_dedup --> node_by_user');
    expect(graph).toContain('node_user_log --> log_herald_user');
    expect(graph).toContain('log_herald_user --> node_user_notifications');
  });

  it('formats durations with the largest exact unit', () => {
    expect(formatDuration(604_800_000)).toBe('7 days');
    expect(formatDuration(90 * 60_000)).toBe('90 minutes');
    expect(formatDuration(1_000)).toBe('1 second');
    expect(formatDuration(1_500)).toBe('1500 ms');
  });
});
