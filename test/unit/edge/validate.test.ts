import { describe, expect, it } from 'vitest';
import { parseIdempotencyKey, parseLimit, parseSince, requireId, requireMessage, requireObject } from '../../../edge/validate.ts';
import { isValidId, newNotificationId, uuidV7Timestamp } from '../../../core/ids.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'no error';
};

describe('edge input validation', () => {
  it('accepts ids of 1-128 letters, digits and ._:-', () => {
    expect(isValidId('a')).toBe(true);
    expect(isValidId('en.wikipedia:p-429ed3859524')).toBe(true);
    expect(isValidId('x'.repeat(128))).toBe(true);
    expect(isValidId('x'.repeat(129))).toBe(false);
    expect(isValidId('')).toBe(false);
    expect(isValidId('a b')).toBe(false);
    expect(isValidId('é')).toBe(false);
    expect(isValidId(12)).toBe(false);
    expect(requireId('007', 'user_id', 'body')).toBe('007');
    expect(code(() => requireId(undefined, 'user_id', 'body'))).toBe('HERALD_EDGE_BODY_INVALID');
    expect(code(() => requireId(null, 'user_id', 'query'))).toBe('HERALD_EDGE_QUERY_INVALID');
    expect(code(() => requireId('a/b', 'topic_id', 'body'))).toBe('HERALD_EDGE_ID_INVALID');
  });

  it('measures messages in UTF-8 bytes', () => {
    expect(requireMessage('é', 2).bytes).toBe(2);
    expect(code(() => requireMessage('é', 1))).toBe('HERALD_EDGE_MESSAGE_TOO_LARGE');
    expect(requireMessage({ a: 1 }, 100).bytes).toBe(7);
    expect(code(() => requireMessage(null, 100))).toBe('HERALD_EDGE_BODY_INVALID');
    expect(code(() => requireMessage('', 100))).toBe('HERALD_EDGE_BODY_INVALID');
    expect(code(() => requireMessage(true, 100))).toBe('HERALD_EDGE_BODY_INVALID');
  });

  it('rejects unknown body fields and non-objects', () => {
    expect(code(() => requireObject({ a: 1, b: 2 }, ['a']))).toBe('HERALD_EDGE_BODY_INVALID');
    expect(code(() => requireObject('x', ['a']))).toBe('HERALD_EDGE_BODY_INVALID');
    expect(requireObject({ a: 1 }, ['a', 'b'])).toEqual({ a: 1 });
  });

  it('parses since as ISO 8601 or epoch ms', () => {
    expect(parseSince('1700000000000')).toBe(1_700_000_000_000);
    expect(parseSince('2026-11-29T15:00:00.000Z')).toBe(Date.UTC(2026, 10, 29, 15));
    expect(parseSince('2026-11-29T16:00:00+01:00')).toBe(Date.UTC(2026, 10, 29, 15));
    expect(code(() => parseSince('yesterday'))).toBe('HERALD_EDGE_QUERY_INVALID');
    expect(code(() => parseSince('2026-13-45T99:00:00Z'))).toBe('HERALD_EDGE_QUERY_INVALID');
  });

  it('bounds limit', () => {
    expect(parseLimit(null, 100, 1000)).toBe(100);
    expect(parseLimit('1000', 100, 1000)).toBe(1000);
    expect(code(() => parseLimit('1001', 100, 1000))).toBe('HERALD_EDGE_QUERY_INVALID');
    expect(code(() => parseLimit('1.5', 100, 1000))).toBe('HERALD_EDGE_QUERY_INVALID');
  });

  it('checks Idempotency-Key', () => {
    expect(parseIdempotencyKey(undefined)).toBeNull();
    expect(parseIdempotencyKey('abc-123')).toBe('abc-123');
    expect(code(() => parseIdempotencyKey(''))).toBe('HERALD_EDGE_IDEMPOTENCY_KEY_INVALID');
    expect(code(() => parseIdempotencyKey('a'.repeat(256)))).toBe('HERALD_EDGE_IDEMPOTENCY_KEY_INVALID');
  });

  it('makes time-ordered UUIDv7 ids whose timestamp is published_at', () => {
    const before = Date.now();
    const ids = Array.from({ length: 1000 }, () => newNotificationId());
    const after = Date.now();
    for (let i = 1; i < ids.length; i++) expect(ids[i]!.id > ids[i - 1]!.id).toBe(true);
    for (const { id, publishedAtMs } of ids) {
      expect(uuidV7Timestamp(id)).toBe(publishedAtMs);
      expect(publishedAtMs).toBeGreaterThanOrEqual(before);
      expect(publishedAtMs).toBeLessThanOrEqual(after + 1);
    }
    expect(Number.isNaN(uuidV7Timestamp('not-a-uuid'))).toBe(true);
  });
});
