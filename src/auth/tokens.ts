import { SignJWT } from 'jose';
import { AppError } from '../errors/app-error.js';
import { ROLES, type Role } from './role.js';
import {
  privateKey,
  publicKey,
  secretKey,
  type JwtAlgorithm,
  type SigningKey,
  type VerificationKey,
} from './jwt-keys.js';
import { JwtRejected, verifyJwt, type JwtClaims, type JwtRules } from './jwt-verify.js';
import type { Viewer } from './viewer.js';

/**
 * Access tokens: short-lived JWTs, signed with jose and verified with node:crypto (jwt-verify.ts). Keys:
 *  - HS256 with JWT_SECRET (≥ 32 bytes), or
 *  - an asymmetric pair from JWT_PRIVATE_KEY (PKCS#8 PEM: EC P-256 → ES256, Ed25519 → EdDSA,
 *    RSA → RS256), so other services can verify with the public key alone.
 * Every key has a `kid` derived from its (public) material. To rotate, move the current key to
 * JWT_PREVIOUS_SECRET / JWT_PREVIOUS_PUBLIC_KEY and set a new one: tokens signed with the
 * old key keep verifying until they expire. The algorithm is pinned per key: a token is
 * verified only with the key its `kid` names and only with that key's algorithm (so no
 * `alg: none`, no HS/RS confusion).
 * The `typ` header (RFC 9068 "at+jwt") marks access tokens; refresh tokens are opaque random
 * values and never JWTs, so one cannot be used as the other.
 */
const TYP = 'at+jwt';

/** How far ahead of this server's clock a token's `iat` may be (servers' clocks drift a little). */
export const MAX_CLOCK_SKEW_SECONDS = 30;

export type { JwtAlgorithm };

export interface TokenSettings {
  readonly secret?: string | undefined;
  readonly previousSecret?: string | undefined;
  /** PKCS#8 PEM; when set, tokens are signed with it instead of `secret`. */
  readonly privateKeyPem?: string | undefined;
  /** SPKI PEM of the key used before the last rotation. */
  readonly previousPublicKeyPem?: string | undefined;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTtlSeconds: number;
}

export interface AccessTokenSubject {
  readonly userId: string;
  readonly role: Role;
  readonly sessionId: string;
}

export interface SignedAccessToken {
  readonly token: string;
  readonly expiresAt: Date;
}

export class TokenService {
  private readonly current: SigningKey;
  /** What a token must be to verify: signed by one of our keys (by `kid`), ours, not expired. */
  private readonly rules: JwtRules;

  constructor(private readonly settings: TokenSettings) {
    if (settings.privateKeyPem) this.current = privateKey(settings.privateKeyPem);
    else if (settings.secret) this.current = secretKey(settings.secret);
    else throw new Error('TokenService needs a secret or a private key');
    const keys = new Map<string, VerificationKey>([[this.current.kid, this.current]]);
    for (const previous of [
      settings.previousSecret ? secretKey(settings.previousSecret) : undefined,
      settings.previousPublicKeyPem ? publicKey(settings.previousPublicKeyPem) : undefined,
    ]) {
      if (previous) keys.set(previous.kid, previous);
    }
    this.rules = {
      keys,
      typ: TYP,
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ['sub', 'iat', 'exp', 'sid', 'role'],
      maxLifetimeSeconds: settings.accessTokenTtlSeconds + MAX_CLOCK_SKEW_SECONDS,
    };
  }

  get algorithm(): JwtAlgorithm {
    return this.current.alg;
  }

  async signAccessToken(subject: AccessTokenSubject, now = new Date()): Promise<SignedAccessToken> {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.settings.accessTokenTtlSeconds;
    const token = await new SignJWT({ role: subject.role, sid: subject.sessionId })
      .setProtectedHeader({ alg: this.current.alg, typ: TYP, kid: this.current.kid })
      .setSubject(subject.userId)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.current.signWith);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * Verifies an access token and returns its viewer; any defect is UNAUTHENTICATED. The work is
   * synchronous (node:crypto, not jose's WebCrypto, a thread-pool job per token; see
   * jwt-verify.ts); the promise is the interface callers already await.
   */
  async verifyAccessToken(token: string): Promise<Viewer> {
    const now = Math.floor(Date.now() / 1000);
    let claims: JwtClaims;
    try {
      claims = verifyJwt(token, this.rules, now);
    } catch (err) {
      const expired = err instanceof JwtRejected && err.expired;
      throw new AppError('UNAUTHENTICATED', expired ? 'Access token expired' : 'Invalid access token', {
        reason: expired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID',
      });
    }
    const { role, sid, sub, iat, exp } = claims;
    // jose's rules accept any `iat`; one from the future means a wrong clock or a forged token.
    if (
      !ROLES.includes(role as Role) ||
      typeof sid !== 'string' ||
      typeof sub !== 'string' ||
      typeof iat !== 'number' ||
      iat > now + MAX_CLOCK_SKEW_SECONDS
    ) {
      throw new AppError('UNAUTHENTICATED', 'Invalid access token', { reason: 'TOKEN_INVALID' });
    }
    return {
      userId: sub,
      role: role as Role,
      sessionId: sid,
      tokenExpiresAt: new Date((exp as number) * 1000),
      issuedAt: iat,
    };
  }

  /** Reads `Authorization: Bearer <token>`: absent is anonymous, anything else must verify. */
  async viewerFromAuthorization(header: string | undefined | null, anonymous: Viewer): Promise<Viewer> {
    if (header === undefined || header === null || header.trim() === '') return anonymous;
    const match = /^Bearer\s+([A-Za-z0-9_\-.=]+)\s*$/i.exec(header.trim());
    if (!match?.[1]) {
      throw new AppError('UNAUTHENTICATED', 'Malformed Authorization header; expected "Bearer <token>"', {
        reason: 'TOKEN_INVALID',
      });
    }
    return this.verifyAccessToken(match[1]);
  }
}
