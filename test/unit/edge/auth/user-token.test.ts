import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintUserToken, verifyUserToken, MAX_TOKEN_TTL_SECONDS } from '../../../../edge/auth/user-token.ts';
import { PublisherKeys } from '../../../../edge/auth/publisher-keys.ts';

const SECRET = 'k'.repeat(40);
const NOW = Date.UTC(2026, 10, 29, 12);
const key = (s: string) => new TextEncoder().encode(s);

describe('user tokens (JWT, HS256, sub = user_id)', () => {
  it('round-trips user_id and expiry (s precision)', async () => {
    const { token, claims } = await mintUserToken(SECRET, 'ada', 3600, NOW);
    expect(token.split('.')).toHaveLength(3);
    expect(claims).toEqual({ userId: 'ada', expiresAtMs: NOW + 3_600_000 });
    expect(await verifyUserToken(SECRET, token, NOW + 1_000)).toEqual(claims);
  });

  it('accepts a token minted by any HS256 JWT library with the same secret (a publisher backend)', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('ada').setExpirationTime(Math.floor(NOW / 1000) + 60).sign(key(SECRET));
    expect((await verifyUserToken(SECRET, token, NOW)).userId).toBe('ada');
  });

  it('keeps ids as strings: "1" and "01" are different users', async () => {
    const { token } = await mintUserToken(SECRET, '01', 60, NOW);
    expect((await verifyUserToken(SECRET, token, NOW)).userId).toBe('01');
  });

  it('refuses an expired token with HERALD_AUTH_TOKEN_EXPIRED (at the expiry instant too)', async () => {
    const { token } = await mintUserToken(SECRET, 'ada', 60, NOW);
    await expect(verifyUserToken(SECRET, token, NOW + 60_000)).rejects.toMatchObject({ code: 'HERALD_AUTH_TOKEN_EXPIRED' });
  });

  it('refuses other secrets, tampered payloads, alg none and garbage with HERALD_AUTH_TOKEN_INVALID', async () => {
    const { token } = await mintUserToken(SECRET, 'ada', 60, NOW);
    const other = (await mintUserToken('x'.repeat(40), 'ada', 60, NOW)).token;
    const [header, , signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'bob', exp: Math.floor(NOW / 1000) + 60 })).toString('base64url');
    const none = new UnsecuredJWT({}).setSubject('ada').setExpirationTime(Math.floor(NOW / 1000) + 60).encode();
    for (const bad of [other, `${header}.${forgedPayload}.${signature}`, `${token}x`, token.slice(0, -2), none, 'a.b.c', 'Bearer x', '', 'a'.repeat(3000)]) {
      await expect(verifyUserToken(SECRET, bad, NOW), bad.slice(0, 40)).rejects.toMatchObject({ code: 'HERALD_AUTH_TOKEN_INVALID' });
    }
  });

  it('refuses a correctly signed token without a valid user or expiry', async () => {
    const exp = Math.floor(NOW / 1000) + 60;
    const signed = [
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('has space').setExpirationTime(exp),
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('ada'),
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp),
    ];
    for (const jwt of signed) await expect(verifyUserToken(SECRET, await jwt.sign(key(SECRET)), NOW)).rejects.toMatchObject({ code: 'HERALD_AUTH_TOKEN_INVALID' });
  });

  it('refuses to mint for a bad user_id or ttl', async () => {
    await expect(mintUserToken(SECRET, 'has space', 60)).rejects.toMatchObject({ code: 'HERALD_EDGE_ID_INVALID' });
    for (const ttl of [0, -1, 1.5, MAX_TOKEN_TTL_SECONDS + 1]) await expect(mintUserToken(SECRET, 'ada', ttl)).rejects.toMatchObject({ code: 'HERALD_EDGE_BODY_INVALID' });
  });
});

describe('publisher keys', () => {
  it('accepts exactly the configured keys', () => {
    const keys = new PublisherKeys(['key-one-0123456789', 'key-two-0123456789']);
    expect(keys.size).toBe(2);
    expect(keys.accepts('key-one-0123456789')).toBe(true);
    expect(keys.accepts('key-two-0123456789')).toBe(true);
    for (const k of ['key-one-012345678', 'key-one-0123456789 ', '', 'KEY-ONE-0123456789']) expect(keys.accepts(k), k).toBe(false);
    expect(new PublisherKeys([]).accepts('')).toBe(false);
  });
});
