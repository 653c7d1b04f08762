/**
 * The edge's access rules:
 * - publishing, subscription management and minting tokens need a publisher key
 *   (`Authorization: Bearer <key>`);
 * - reading one user's notifications (GET /stream, /ws, /notifications) needs that user's token
 *   (a JWT, see user-token.ts; `Authorization: Bearer <token>`, or `?token=` where headers cannot
 *   be set: EventSource, WebSocket). A token of another user is refused (403), so a user reads
 *   only their own. A publisher key is accepted there too (a backend reading for a user).
 * With no publisher keys configured, auth is off and every request is allowed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '../../core/errors.ts';
import { counter } from '../../core/metrics.ts';
import { PublisherKeys } from './publisher-keys.ts';
import { verifyUserToken } from './user-token.ts';

const refused = counter('herald_auth_refused_total', 'Requests refused by auth, by error code.', ['code']);

/** Auth settings (from core/config.ts). */
export interface EdgeAuthOptions {
  publisherKeys: readonly string[];
  tokenSecret: string;
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** See the module comment. */
export class EdgeAuth {
  readonly #keys: PublisherKeys;
  readonly #secret: string;

  constructor(o: EdgeAuthOptions) {
    this.#keys = new PublisherKeys(o.publisherKeys);
    this.#secret = o.tokenSecret;
  }

  /** Whether auth is on (publisher keys configured). */
  get enabled(): boolean {
    return this.#keys.size > 0;
  }

  /** The secret user tokens are signed with (for POST /tokens). */
  get tokenSecret(): string {
    return this.#secret;
  }

  /**
   * Requires a publisher key.
   * @throws HeraldError HERALD_AUTH_REQUIRED (none given), HERALD_AUTH_KEY_INVALID (not configured)
   */
  requirePublisher(req: IncomingMessage): void {
    if (!this.enabled) return;
    const key = bearer(req);
    if (key === undefined) throw this.#refuse('HERALD_AUTH_REQUIRED', 'This request needs a publisher key: send Authorization: Bearer <key> with one of HERALD_PUBLISHER_KEYS.');
    if (!this.#keys.accepts(key)) throw this.#refuse('HERALD_AUTH_KEY_INVALID', 'The publisher key is not accepted: use one of HERALD_PUBLISHER_KEYS.');
  }

  /**
   * Requires a token of `userId` (header, else the `token` query parameter). A publisher key is
   * accepted too (servers reading on a user's behalf).
   * @throws HeraldError HERALD_AUTH_REQUIRED, HERALD_AUTH_TOKEN_INVALID, HERALD_AUTH_TOKEN_EXPIRED,
   *   HERALD_AUTH_FORBIDDEN (a valid token of another user)
   */
  async requireUser(req: IncomingMessage, url: URL, userId: string): Promise<void> {
    if (!this.enabled) return;
    const credential = bearer(req) ?? url.searchParams.get('token') ?? undefined;
    if (credential === undefined || credential === '') {
      throw this.#refuse('HERALD_AUTH_REQUIRED', `Reading ${userId}'s notifications needs their user token: send Authorization: Bearer <token>, or ?token=<token> for EventSource and WebSocket.`);
    }
    if (this.#keys.accepts(credential)) return;
    let claims;
    try {
      claims = await verifyUserToken(this.#secret, credential);
    } catch (err) {
      if (err instanceof HeraldError) refused.inc({ code: err.code });
      throw err;
    }
    if (claims.userId !== userId) throw this.#refuse('HERALD_AUTH_FORBIDDEN', 'This token belongs to another user: a token reads only its own user\'s notifications.');
  }

  #refuse(code: 'HERALD_AUTH_REQUIRED' | 'HERALD_AUTH_KEY_INVALID' | 'HERALD_AUTH_FORBIDDEN', message: string): HeraldError {
    refused.inc({ code });
    return new HeraldError(code, message);
  }
}

/** Sets `WWW-Authenticate` on a 401 (RFC 6750 §3) before the error is sent. */
export function challenge(res: ServerResponse, err: unknown): void {
  if (err instanceof HeraldError && err.status === 401 && !res.headersSent) res.setHeader('www-authenticate', 'Bearer realm="herald"');
}
