/** The auth settings e2e tests start Herald with, and the credentials that go with them. */
import { api } from './http.ts';

/** The one publisher key of {@link AUTH_ENV}. */
export const TEST_PUBLISHER_KEY = 'pub-key-0123456789abcdef';
/** The token secret of {@link AUTH_ENV} (48 characters). */
export const TEST_TOKEN_SECRET = 's'.repeat(48);
/** Settings that turn auth on: one publisher key and a token secret. */
export const AUTH_ENV = { HERALD_PUBLISHER_KEYS: TEST_PUBLISHER_KEY, HERALD_TOKEN_SECRET: TEST_TOKEN_SECRET } as const;
/** Request headers carrying the publisher key. */
export const PUBLISHER = { authorization: `Bearer ${TEST_PUBLISHER_KEY}` } as const;

/** A user token for `userId` from the edge's POST /tokens (2 min), minted with the publisher key. */
export async function userToken(url: string, userId: string): Promise<string> {
  return (await api(url, 'POST', '/tokens', { user_id: userId, ttl_seconds: 120 }, PUBLISHER)).body.token as string;
}
