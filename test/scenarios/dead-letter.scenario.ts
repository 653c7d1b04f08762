/**
 * Invariant 5: a malformed record on a log goes to the DLQ log topic with the reason and its
 * source offset, and the job keeps running (what comes after it is still delivered).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, fetchAll, waitFor } from '../helpers/http.ts';
import type { HeraldApp } from '../../jobs/app.ts';
import type { FetchedBatch } from '../../log/types.ts';

/** Registers the DLQ scenario against the Herald that `start` runs (any profile). */
export function describeDeadLetterScenario(profile: string, start: () => Promise<{ app: HeraldApp; url: string }>): void {
describe(`dead-letter queue (${profile} profile)`, () => {
  let app: HeraldApp;
  let url: string;
  let publishLog: string;
  let userLog: string;
  let dlq: string;
  beforeAll(async () => {
    ({ app, url } = await start());
    const fanout = app.topology.stages.find((s) => s.name === 'fanout')!;
    publishLog = fanout.source.log;
    dlq = fanout.deadLetterLog!;
    userLog = app.topology.stages.find((s) => s.name === 'edge')!.source.log;
    await api(url, 'POST', '/subscribe', { topic_id: 'ops', user_id: 'erin' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('sends undecodable publish and user-log records to the DLQ log and keeps delivering', async () => {
    const producer = app.profile.transport.createProducer();
    const [bad] = await producer.send(publishLog, [{ key: 'ops', value: '{"topic_id":"ops","message":' }]);
    await producer.send(publishLog, [{ key: 'ops', value: JSON.stringify({ topic_id: 'ops', message: 'no id' }) }]);
    await producer.send(userLog, [{ key: 'erin', value: 'not a notification' }]);
    const good = await api(url, 'POST', '/publish', { topic_id: 'ops', message: 'after the bad ones' });
    expect(good.status).toBe(202);
    await waitFor(async () => (await fetchAll(url, 'erin')).some((n) => n.id === good.body.id), 20_000, 'the good publish');

    const letters: any[] = [];
    const reader = app.profile.transport.createConsumer({ groupId: `test-dlq-reader-${Date.now()}`, topics: [dlq] });
    await reader.run(async (batch: FetchedBatch) => {
      for (const r of batch.records()) letters.push(JSON.parse(new TextDecoder().decode(r.value)));
    });
    await waitFor(() => letters.length >= 3, 20_000, 'three dead letters');
    await reader.close();
    await producer.close();

    const fromFanout = letters.filter((l) => l.stage === 'fanout');
    expect(fromFanout).toHaveLength(2);
    expect(fromFanout[0]).toMatchObject({ source_log: publishLog, source_partition: bad!.partition, source_offset: bad!.offset, error: { code: 'HERALD_OPERATOR_RECORD_INVALID' } });
    expect(fromFanout[0].value).toBe('{"topic_id":"ops","message":');
    expect(fromFanout[1].error.message.length).toBeGreaterThan(5);
    const fromEdge = letters.filter((l) => l.stage === 'edge');
    expect(fromEdge).toEqual([expect.objectContaining({ source_log: userLog, value: 'not a notification', error: expect.objectContaining({ code: 'HERALD_OPERATOR_RECORD_INVALID' }) })]);
  });
});
}
