import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HeraldError, isRetriable } from '../../../core/errors.ts';
import { ROOT } from '../../helpers/herald.ts';

describe('error catalogue', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');

  it.each(Object.keys(ERROR_CODES))('%s is documented in docs/errors.md', (code) => {
    expect(doc).toContain(`\`${code}\``);
  });

  it('names codes HERALD_<AREA>_<WHAT> with a known area', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^HERALD_(TOPOLOGY|OPERATOR|EDGE|SINK|LOG|STORE|CONFIG|AUTH)_[A-Z_]+$/);
  });

  it('carries status, retriable and cause, and serialises to the API shape', () => {
    const cause = new Error('disk full');
    const err = new HeraldError('HERALD_LOG_APPEND_FAILED', 'append failed', { cause });
    expect(err.status).toBe(503);
    expect(err.retriable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ error: { code: 'HERALD_LOG_APPEND_FAILED', message: 'append failed' } });
  });

  it('never retries programmer errors', () => {
    expect(isRetriable(new TypeError('x'))).toBe(false);
    expect(isRetriable(new RangeError('x'))).toBe(false);
    expect(isRetriable(new Error('network'))).toBe(true);
    expect(isRetriable(new HeraldError('HERALD_EDGE_BODY_INVALID', 'x'))).toBe(false);
  });
});
