import { generateKeyPairSync } from 'node:crypto';
import { base64url, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenService } from '../../src/auth/tokens.js';
import { ANONYMOUS } from '../../src/auth/viewer.js';
import { AppError } from '../../src/errors/app-error.js';

const settings = { secret: 'a'.repeat(40), issuer: 'eduflow', audience: 'eduflow-api', accessTokenTtlSeconds: 900 };
const subject = {
  userId: '3f1c1d5e-8a4b-4c6d-9e7f-0a1b2c3d4e5f',
  role: 'STUDENT' as const,
  sessionId: '11111111-2222-4333-8444-555555555555',
};

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('UNAUTHENTICATED');
  return err as AppError;
}

describe(TokenService.name, () => {
  const tokens = new TokenService(settings);

  it('signs access tokens that verify back to the viewer, 15 minutes by default', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const signed = await tokens.signAccessToken(subject, now);
    expect(signed.expiresAt.toISOString()).toBe('2026-01-01T00:15:00.000Z');
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(signed.token.split('.')[0]!)));
    expect(header).toMatchObject({ alg: 'HS256', typ: 'at+jwt' });
    expect(header.kid).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const fresh = await tokens.signAccessToken(subject);
    expect(await tokens.verifyAccessToken(fresh.token)).toMatchObject({
      userId: subject.userId,
      role: 'STUDENT',
      sessionId: subject.sessionId,
    });
  });

  it('rejects expired tokens, saying so', async () => {
    const old = await tokens.signAccessToken(subject, new Date(Date.now() - 16 * 60_000));
    expect((await rejection(tokens.verifyAccessToken(old.token))).details.reason).toBe('TOKEN_EXPIRED');
  });

  it('rejects tampered payloads and foreign signatures', async () => {
    const { token } = await tokens.signAccessToken(subject);
    const [h, , s] = token.split('.');
    const forged = base64url.encode(
      JSON.stringify({
        sub: subject.userId,
        role: 'ADMIN',
        sid: 'x',
        iss: 'eduflow',
        aud: 'eduflow-api',
        iat: 1,
        exp: 9999999999,
      }),
    );
    await rejection(tokens.verifyAccessToken(`${h}.${forged}.${s}`));
    const other = new TokenService({ ...settings, secret: 'b'.repeat(40) });
    await rejection(tokens.verifyAccessToken((await other.signAccessToken(subject)).token));
  });

  it('rejects alg: none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
    const payload = base64url.encode(
      JSON.stringify({
        sub: subject.userId,
        role: 'ADMIN',
        sid: subject.sessionId,
        iss: 'eduflow',
        aud: 'eduflow-api',
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 60,
      }),
    );
    await rejection(tokens.verifyAccessToken(`${header}.${payload}.`));
  });

  it('rejects a wrong audience or issuer, and a token without typ at+jwt', async () => {
    await rejection(
      tokens.verifyAccessToken(
        (await new TokenService({ ...settings, audience: 'other' }).signAccessToken(subject)).token,
      ),
    );
    await rejection(
      tokens.verifyAccessToken(
        (await new TokenService({ ...settings, issuer: 'other' }).signAccessToken(subject)).token,
      ),
    );
    const key = new TextEncoder().encode(settings.secret);
    const untyped = await new SignJWT({ role: 'STUDENT', sid: subject.sessionId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject.userId)
      .setIssuer('eduflow')
      .setAudience('eduflow-api')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    await rejection(tokens.verifyAccessToken(untyped));
  });

  it('keeps verifying tokens of the previous key during a rotation', async () => {
    const old = new TokenService(settings);
    const rotated = new TokenService({ ...settings, secret: 'c'.repeat(40), previousSecret: settings.secret });
    const issuedBefore = await old.signAccessToken(subject);
    expect((await rotated.verifyAccessToken(issuedBefore.token)).userId).toBe(subject.userId);
    const afterRotation = new TokenService({ ...settings, secret: 'c'.repeat(40) });
    await rejection(afterRotation.verifyAccessToken(issuedBefore.token));
  });

  it('treats a missing header as anonymous and a malformed one as an error', async () => {
    expect(await tokens.viewerFromAuthorization(undefined, ANONYMOUS)).toBe(ANONYMOUS);
    expect(await tokens.viewerFromAuthorization('  ', ANONYMOUS)).toBe(ANONYMOUS);
    await rejection(tokens.viewerFromAuthorization('Token abc', ANONYMOUS));
  });
});

describe('asymmetric keys', () => {
  const pem = (type: 'ec' | 'ed25519') => {
    const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    return {
      privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  };

  it.each([
    ['ec', 'ES256'],
    ['ed25519', 'EdDSA'],
  ] as const)('signs with a %s key as %s and verifies', async (type, alg) => {
    const tokens = new TokenService({ ...settings, secret: undefined, privateKeyPem: pem(type).privateKeyPem });
    expect(tokens.algorithm).toBe(alg);
    const { token } = await tokens.signAccessToken(subject);
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!))).alg).toBe(alg);
    expect((await tokens.verifyAccessToken(token)).userId).toBe(subject.userId);
  });

  it('rotates from a secret to a key pair, and from one pair to the next', async () => {
    const first = pem('ec');
    const second = pem('ed25519');
    const hs = new TokenService(settings);
    const withFirst = new TokenService({
      ...settings,
      privateKeyPem: first.privateKeyPem,
      previousSecret: settings.secret,
    });
    const hsToken = (await hs.signAccessToken(subject)).token;
    expect((await withFirst.verifyAccessToken(hsToken)).userId).toBe(subject.userId);
    const firstToken = (await withFirst.signAccessToken(subject)).token;
    const withSecond = new TokenService({
      ...settings,
      secret: undefined,
      privateKeyPem: second.privateKeyPem,
      previousPublicKeyPem: first.publicKeyPem,
    });
    expect((await withSecond.verifyAccessToken(firstToken)).userId).toBe(subject.userId);
    await rejection(withSecond.verifyAccessToken(hsToken));
  });

  it('refuses an HS256 token forged with the public key as its secret (algorithm confusion)', async () => {
    const pair = pem('ec');
    const tokens = new TokenService({ ...settings, secret: undefined, privateKeyPem: pair.privateKeyPem });
    const real = JSON.parse(
      new TextDecoder().decode(base64url.decode((await tokens.signAccessToken(subject)).token.split('.')[0]!)),
    );
    const forged = await new SignJWT({ role: 'ADMIN', sid: subject.sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: real.kid })
      .setSubject(subject.userId)
      .setIssuer('eduflow')
      .setAudience('eduflow-api')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pair.publicKeyPem));
    await rejection(tokens.verifyAccessToken(forged));
  });
});
