/**
 * A minimal method + path router over node:http. A route is an exact path (`/publish`) or a
 * pattern whose `:name` segments are path parameters (`/users/:user_id/channels`): a parameter
 * matches one whole, non-empty segment, percent-decoded (a segment that does not decode matches
 * nothing). Exact paths win over patterns; patterns are tried in registration order. Unknown
 * path → HERALD_EDGE_NOT_FOUND (404); known path, other method → HERALD_EDGE_METHOD_NOT_ALLOWED
 * (405) with an `Allow` header. The metric label is the pattern, never the concrete path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '../../core/errors.ts';

/** Path parameters of a match, by name (decoded); empty for exact paths. */
export type RouteParams = Readonly<Record<string, string>>;

/**
 * A request handler. `url` is the parsed request URL, `params` the path parameters (the server
 * always passes them; optional so callers of exact-path handlers may leave them out).
 */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, params?: RouteParams) => Promise<void> | void;

/** A registered pattern: its segments (`:name` = parameter) and handlers by method. */
interface PatternRoute {
  pattern: string;
  segments: string[];
  byMethod: Map<string, RouteHandler>;
}

/** The parameters when `path` matches `route`, else null. */
function matchPattern(route: PatternRoute, path: string): Record<string, string> | null {
  const parts = path.split('/');
  if (parts.length !== route.segments.length) return null;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i]!;
    const part = parts[i]!;
    if (!seg.startsWith(':')) {
      if (seg !== part) return null;
      continue;
    }
    if (part === '') return null;
    try {
      params[seg.slice(1)] = decodeURIComponent(part);
    } catch {
      return null; // malformed percent-encoding
    }
  }
  return params;
}

/** Result of {@link Router.match}. */
export interface RouteMatch {
  /** Route label for metrics, e.g. `POST /publish` or `PUT /users/:user_id/channels` (the pattern). */
  label: string;
  handler: RouteHandler;
  /** Path parameters (empty for exact paths). */
  params: RouteParams;
}

const NO_PARAMS: RouteParams = Object.freeze({});

/** Routes requests to handlers by method and path (exact, or a pattern with `:name` parameters). */
export class Router {
  #routes = new Map<string, Map<string, RouteHandler>>();
  #patterns: PatternRoute[] = [];

  /**
   * Registers `handler` for `method` on `path`: an exact path, or a pattern with `:name` segments.
   * @throws TypeError when a pattern has an empty or repeated parameter name
   */
  on(method: string, path: string, handler: RouteHandler): this {
    if (path.split('/').some((s) => s.startsWith(':'))) return this.#onPattern(method, path, handler);
    let byMethod = this.#routes.get(path);
    if (!byMethod) {
      byMethod = new Map();
      this.#routes.set(path, byMethod);
    }
    byMethod.set(method.toUpperCase(), handler);
    return this;
  }

  /**
   * Finds the handler of a request.
   * @throws HeraldError HERALD_EDGE_NOT_FOUND or HERALD_EDGE_METHOD_NOT_ALLOWED
   */
  match(method: string, path: string): RouteMatch {
    const exact = this.#routes.get(path);
    if (exact) {
      const handler = handlerFor(exact, method);
      if (!handler) throw notAllowed(path, method, [...exact.keys()]);
      return { label: `${method} ${path}`, handler, params: NO_PARAMS };
    }
    const allowed = new Set<string>();
    for (const route of this.#patterns) {
      const params = matchPattern(route, path);
      if (params === null) continue;
      const handler = handlerFor(route.byMethod, method);
      if (handler) return { label: `${method} ${route.pattern}`, handler, params };
      for (const m of route.byMethod.keys()) allowed.add(m);
    }
    if (allowed.size > 0) throw notAllowed(path, method, [...allowed]);
    throw new HeraldError('HERALD_EDGE_NOT_FOUND', `No route for ${method} ${path}. See the README for the API.`);
  }

  #onPattern(method: string, pattern: string, handler: RouteHandler): this {
    const segments = pattern.split('/');
    const names = segments.filter((s) => s.startsWith(':')).map((s) => s.slice(1));
    if (names.some((n) => n === '') || new Set(names).size !== names.length) throw new TypeError(`route ${pattern}: parameter names must be non-empty and distinct`);
    let route = this.#patterns.find((r) => r.pattern === pattern);
    if (!route) {
      route = { pattern, segments, byMethod: new Map() };
      this.#patterns.push(route);
    }
    route.byMethod.set(method.toUpperCase(), handler);
    return this;
  }
}

/** The handler of `method` (HEAD falls back to GET), or undefined. */
function handlerFor(byMethod: Map<string, RouteHandler>, method: string): RouteHandler | undefined {
  return byMethod.get(method) ?? (method === 'HEAD' ? byMethod.get('GET') : undefined);
}

function notAllowed(path: string, method: string, methods: string[]): HeraldError {
  const allow = methods.join(', ');
  return new HeraldError('HERALD_EDGE_METHOD_NOT_ALLOWED', `${path} accepts ${allow}, not ${method}.`, { details: { allow } });
}
