/**
 * A minimal method + path router over node:http. Exact paths only (the API has no path
 * parameters yet). Unknown path → HERALD_EDGE_NOT_FOUND (404); known path, other method →
 * HERALD_EDGE_METHOD_NOT_ALLOWED (405) with an `Allow` header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '../../core/errors.ts';

/** A request handler. `url` is the parsed request URL. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** Result of {@link Router.match}. */
export interface RouteMatch {
  /** Route label for metrics, e.g. `POST /publish`. */
  label: string;
  handler: RouteHandler;
}

/** Routes requests to handlers by method and exact path. */
export class Router {
  #routes = new Map<string, Map<string, RouteHandler>>();

  /** Registers `handler` for `method` on `path`. */
  on(method: string, path: string, handler: RouteHandler): this {
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
    const byMethod = this.#routes.get(path);
    if (!byMethod) throw new HeraldError('HERALD_EDGE_NOT_FOUND', `No route for ${method} ${path}. See the README for the API.`);
    const handler = byMethod.get(method) ?? (method === 'HEAD' ? byMethod.get('GET') : undefined);
    if (!handler) {
      const allow = [...byMethod.keys()].join(', ');
      throw new HeraldError('HERALD_EDGE_METHOD_NOT_ALLOWED', `${path} accepts ${allow}, not ${method}.`, { details: { allow } });
    }
    return { label: `${method} ${path}`, handler };
  }
}
