/** The edge router: exact paths, `:name` path parameters, 404/405, labels for metrics. */
import { describe, expect, it } from 'vitest';
import { Router, type RouteHandler } from '../../../edge/http/router.ts';

const h = (name: string): RouteHandler => Object.assign(() => {}, { routeName: name });
const nameOf = (handler: RouteHandler) => (handler as unknown as { routeName: string }).routeName;

function router(): Router {
  return new Router()
    .on('POST', '/publish', h('publish'))
    .on('GET', '/users/:user_id/channels', h('get channels'))
    .on('PUT', '/users/:user_id/channels', h('put channels'))
    .on('PUT', '/users/:user_id/preferences', h('put prefs'))
    .on('GET', '/users/me/channels', h('exact me'))
    .on('GET', '/a/:x/b/:y', h('two'));
}

describe('Router', () => {
  it('matches exact paths as before, with no parameters', () => {
    const m = router().match('POST', '/publish');
    expect(nameOf(m.handler)).toBe('publish');
    expect(m.label).toBe('POST /publish');
    expect({ ...m.params }).toEqual({});
  });

  it('matches a pattern, decodes the parameter, and labels with the pattern', () => {
    const m = router().match('PUT', '/users/ada%3A1/channels');
    expect(nameOf(m.handler)).toBe('put channels');
    expect(m.label).toBe('PUT /users/:user_id/channels');
    expect({ ...m.params }).toEqual({ user_id: 'ada:1' });
    expect({ ...router().match('GET', '/a/1/b/2').params }).toEqual({ x: '1', y: '2' });
  });

  it('HEAD falls back to GET on patterns too', () => {
    const m = router().match('HEAD', '/users/ada/channels');
    expect(nameOf(m.handler)).toBe('get channels');
    expect(m.label).toBe('HEAD /users/:user_id/channels');
  });

  it('an exact path wins over a pattern that also matches', () => {
    expect(nameOf(router().match('GET', '/users/me/channels').handler)).toBe('exact me');
  });

  it('404 for paths no route matches: empty segment, extra or missing segments, bad percent-encoding', () => {
    for (const path of ['/users//channels', '/users/ada/channels/x', '/users/ada', '/users/ada/other', '/users/%E0%A4%A/channels', '/nope']) {
      expect(() => router().match('GET', path), path).toThrow(expect.objectContaining({ code: 'HERALD_EDGE_NOT_FOUND' }));
    }
  });

  it('405 with the allowed methods when a pattern matches but not the method', () => {
    let err: unknown;
    try {
      router().match('DELETE', '/users/ada/channels');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'HERALD_EDGE_METHOD_NOT_ALLOWED', details: { allow: 'GET, PUT' } });
    expect(() => router().match('GET', '/users/ada/preferences')).toThrow(expect.objectContaining({ code: 'HERALD_EDGE_METHOD_NOT_ALLOWED', details: { allow: 'PUT' } }));
    expect(() => router().match('GET', '/publish')).toThrow(expect.objectContaining({ code: 'HERALD_EDGE_METHOD_NOT_ALLOWED', details: { allow: 'POST' } }));
  });

  it('refuses patterns with empty or repeated parameter names', () => {
    expect(() => new Router().on('GET', '/a/:/b', h('x'))).toThrow(TypeError);
    expect(() => new Router().on('GET', '/a/:id/b/:id', h('x'))).toThrow(TypeError);
  });
});
