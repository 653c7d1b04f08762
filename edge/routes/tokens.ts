/**
 * POST /tokens `{"user_id", "ttl_seconds"?}` (publisher key required) → 200
 * `{"token","user_id","expires_at"}`: a user token for the browser of `user_id`, valid
 * `ttl_seconds` (default 3600, at most 30 days). Servers call it when their user signs in.
 */
import { HeraldError } from '../../core/errors.ts';
import { readJsonBody, sendJson } from '../http/json.ts';
import type { Router } from '../http/router.ts';
import { requireId, requireObject } from '../validate.ts';
import type { EdgeAuth } from '../auth/edge-auth.ts';
import { mintUserToken } from '../auth/user-token.ts';

/** Lifetime of a token when the request names none, s. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** Registers POST /tokens. */
export function tokenRoutes(router: Router, auth: EdgeAuth): void {
  router.on('POST', '/tokens', async (req, res) => {
    if (!auth.enabled) throw new HeraldError('HERALD_AUTH_DISABLED', 'Auth is off on this server (HERALD_PUBLISHER_KEYS is not set): streams and fetches need no token.');
    const body = requireObject(await readJsonBody(req, 1024), ['user_id', 'ttl_seconds']);
    const userId = requireId(body.user_id, 'user_id', 'body');
    const ttl = body.ttl_seconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (typeof ttl !== 'number') throw new HeraldError('HERALD_EDGE_BODY_INVALID', 'ttl_seconds must be a number of seconds.');
    const { token, claims } = await mintUserToken(auth.tokenSecret, userId, ttl);
    sendJson(res, 200, { token, user_id: userId, expires_at: new Date(claims.expiresAtMs).toISOString() });
  });
}
