/**
 * User tokens: what a browser presents to read one user's notifications (GET /stream, /ws,
 * /notifications). A token is a JWT (RFC 7519) signed with HS256 (HMAC-SHA256, RFC 7518 §3.2)
 * under HERALD_TOKEN_SECRET, with `sub` = user_id and `exp` = expiry (s since the epoch), made
 * and checked with `jose`. Standard on purpose: a publisher's backend can mint tokens with any JWT
 * library instead of calling POST /tokens. Stateless: any edge with the same secret verifies
 * them; rotating the secret revokes every token.
 */
import { errors, jwtVerify, SignJWT } from 'jose';
import { HeraldError } from '../../core/errors.ts';
import { isValidId } from '../../core/ids.ts';

/** Longest lifetime a token may be minted with, s (30 days). */
export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/** Longest token accepted, characters (anything longer is not one of ours). */
const MAX_TOKEN_LENGTH = 2048;

/** What a valid token says. */
export interface UserTokenClaims {
  userId: string;
  /** Expiry, ms since the epoch. */
  expiresAtMs: number;
}

const encoder = new TextEncoder();
const keys = new Map<string, Uint8Array>();
function keyOf(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (key === undefined) {
    key = encoder.encode(secret);
    keys.set(secret, key);
  }
  return key;
}

/**
 * Mints a token for `userId` valid `ttlSeconds` from `nowMs`.
 * @throws HeraldError HERALD_EDGE_ID_INVALID for a bad user_id, HERALD_EDGE_BODY_INVALID for a
 *   ttl outside 1..{@link MAX_TOKEN_TTL_SECONDS}
 */
export async function mintUserToken(secret: string, userId: string, ttlSeconds: number, nowMs = Date.now()): Promise<{ token: string; claims: UserTokenClaims }> {
  if (!isValidId(userId)) throw new HeraldError('HERALD_EDGE_ID_INVALID', 'user_id must be 1-128 characters of letters, digits and ._:-');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new HeraldError('HERALD_EDGE_BODY_INVALID', `ttl_seconds must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS} (30 days).`);
  }
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId).setIssuedAt(iat).setExpirationTime(exp).sign(keyOf(secret));
  return { token, claims: { userId, expiresAtMs: exp * 1000 } };
}

/**
 * Verifies a token's signature (HS256 only: `alg: none` and other algorithms are refused) and
 * expiry.
 * @throws HeraldError HERALD_AUTH_TOKEN_INVALID (malformed, or the signature does not match, or
 *   no valid `sub`/`exp`), HERALD_AUTH_TOKEN_EXPIRED (valid but past its expiry at `nowMs`)
 */
export async function verifyUserToken(secret: string, token: string, nowMs = Date.now()): Promise<UserTokenClaims> {
  const invalid = (cause?: unknown) => new HeraldError('HERALD_AUTH_TOKEN_INVALID', 'The user token is not valid here: mint a new one (POST /tokens or `npx herald token`).', { cause });
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw invalid();
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), { algorithms: ['HS256'], currentDate: new Date(nowMs), requiredClaims: ['sub', 'exp'] }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) {
      const exp = typeof err.payload.exp === 'number' ? new Date(err.payload.exp * 1000).toISOString() : 'an earlier time';
      throw new HeraldError('HERALD_AUTH_TOKEN_EXPIRED', `The user token expired at ${exp}: mint a new one.`);
    }
    throw invalid(err);
  }
  if (!isValidId(payload.sub) || !Number.isSafeInteger(payload.exp)) throw invalid();
  return { userId: payload.sub, expiresAtMs: payload.exp! * 1000 };
}
