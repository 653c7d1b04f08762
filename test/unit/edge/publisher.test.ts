import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../edge/publisher.ts';

describe('canonicalJson (Idempotency-Key fingerprints)', () => {
  it('ignores key order at every depth and keeps everything else', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: 'é' } })).toBe(canonicalJson({ a: { c: 'é', d: [3, { x: 2, y: 1 }] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson('text')).toBe('"text"');
    expect(JSON.parse(canonicalJson({ b: null, a: true, c: 1.5 }))).toEqual({ a: true, b: null, c: 1.5 });
  });
});
