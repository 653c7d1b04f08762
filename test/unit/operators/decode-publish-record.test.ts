import { describe, expect, it } from 'vitest';
import { decodePublishRecords } from '../../../operators/runtime/decode-publish-record.ts';
import { DeadLetterRecord, forEachRecord } from '../../../operators/types.ts';
import { chainRecords, collector, encodeBatch, publish } from './helpers.ts';

const T0 = 1_700_000_000_000;

describe('decoding publish records: bad records go to the DLQ, the batch goes on', () => {
  it('decodes valid records with offset, timestamp and published_at ms', () => {
    const c = collector();
    const p = publish('t1', T0, 'k');
    const [r] = decodePublishRecords(encodeBatch([p], 40), c);
    expect(r).toMatchObject({ offset: 40, timestamp: 1_000, value: p, publishedAtMs: T0, bucket: null, paged: false, recipients: null, routed: null });
    expect(c.stats.recordsIn).toBe(1);
  });

  const good = publish('t1', T0);
  const cases: [string, string, string][] = [
    ['bad JSON', '{"id":', 'not valid JSON'],
    ['not an object', '[1,2]', 'not a JSON object'],
    ['missing id', JSON.stringify({ ...good, id: undefined }), 'id'],
    ['id not UUIDv7', JSON.stringify({ ...good, id: 'nope' }), 'id'],
    ['bad topic_id', JSON.stringify({ ...good, topic_id: 'has space' }), 'topic_id'],
    ['message null', JSON.stringify({ ...good, message: null }), 'message'],
    ['message array', JSON.stringify({ ...good, message: [1] }), 'message'],
    ['bad published_at', JSON.stringify({ ...good, published_at: 'yesterday' }), 'published_at'],
    ['idempotency_key number', JSON.stringify({ ...good, idempotency_key: 5 }), 'idempotency_key'],
    ['fanout_bucket without fanout_buckets', JSON.stringify({ ...good, fanout_bucket: 1 }), 'fanout_buckets'],
    ['fanout_bucket out of range', JSON.stringify({ ...good, fanout_bucket: 16, fanout_buckets: 16 }), 'fanout_bucket'],
    ['fanout_bucket not an integer', JSON.stringify({ ...good, fanout_bucket: 1.5, fanout_buckets: 16 }), 'fanout_bucket'],
    ['fanout_buckets zero', JSON.stringify({ ...good, fanout_bucket: 0, fanout_buckets: 0 }), 'fanout_buckets'],
  ];

  it('decodes a fan-out page record with its bucket (the notification fields unchanged)', () => {
    const c = collector();
    const p = publish('t1', T0);
    const [r] = decodePublishRecords(encodeBatch([JSON.stringify({ ...p, fanout_bucket: 3, fanout_buckets: 16 })]), c);
    expect(r).toMatchObject({ value: p, bucket: { index: 3, count: 16 }, paged: false });
    expect(c.deadLetters).toEqual([]);
  });
  for (const [name, value, reason] of cases) {
    it(`dead-letters a record with ${name} and keeps the rest`, () => {
      const c = collector();
      const ok1 = publish('t1', T0);
      const ok2 = publish('t2', T0);
      const out = decodePublishRecords(encodeBatch([ok1, value, ok2], 100), c);
      expect(out.map((r) => r.value)).toEqual([ok1, ok2]);
      expect(c.deadLetters).toHaveLength(1);
      expect(c.deadLetters[0]).toMatchObject({ offset: 101, code: 'HERALD_OPERATOR_RECORD_INVALID', key: null, value });
      expect(c.deadLetters[0]!.message).toContain(reason);
      expect(c.stats.recordsIn).toBe(3);
    });
  }

  it('forEachRecord: a DeadLetterRecord thrown by a step moves that record to the DLQ; other errors fail the batch', () => {
    const c = collector();
    const records = chainRecords([publish('t1', T0), publish('t2', T0), publish('t3', T0)]);
    const kept = forEachRecord(records, c, (r) => {
      if (r.value.topic_id === 't2') throw new DeadLetterRecord('t2 is bad');
      return true;
    });
    expect(kept.map((r) => r.value.topic_id)).toEqual(['t1', 't3']);
    expect(c.deadLetters[0]).toMatchObject({ offset: 1, code: 'HERALD_OPERATOR_RECORD_INVALID', message: 't2 is bad', key: 't2' });
    expect(() => forEachRecord(records, c, () => { throw new TypeError('bug'); })).toThrow(TypeError);
  });
});
