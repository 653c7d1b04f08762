/** Edge auth (public API of this folder): publisher keys, user tokens, the access table. */
export { EdgeAuth, challenge, type EdgeAuthOptions } from './edge-auth.ts';
export { authorize, redactUrl, routeAccess, type RouteAccess } from './access.ts';
export { mintUserToken, verifyUserToken, MAX_TOKEN_TTL_SECONDS, type UserTokenClaims } from './user-token.ts';
export { PublisherKeys } from './publisher-keys.ts';
