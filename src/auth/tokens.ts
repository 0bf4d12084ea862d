import { webcrypto, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
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
import type { Viewer } from './viewer.js';

type CryptoKey = webcrypto.CryptoKey;

/**
 * Access tokens: short-lived JWTs. Keys:
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
  private readonly verificationKeys: ReadonlyMap<string, VerificationKey>;
  /**
   * HMAC keys as CryptoKeys, imported once: given a secret KeyObject, jose exports and
   * re-imports it on every verification (about a tenth of a millisecond each).
   */
  private readonly hmacKeys = new WeakMap<KeyObject, Promise<CryptoKey>>();

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
    this.verificationKeys = keys;
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

  /** Verifies an access token and returns its viewer; any defect is UNAUTHENTICATED. */
  async verifyAccessToken(token: string): Promise<Viewer> {
    try {
      const { payload } = await jwtVerify(
        token,
        (header: JWTHeaderParameters) => {
          const key = header.kid ? this.verificationKeys.get(header.kid) : undefined;
          if (!key || key.alg !== header.alg)
            throw new joseErrors.JWSSignatureVerificationFailed('unknown key or algorithm');
          if (key.alg !== 'HS256') return key.key;
          let imported = this.hmacKeys.get(key.key);
          if (!imported) {
            imported = webcrypto.subtle.importKey('raw', key.key.export(), { name: 'HMAC', hash: 'SHA-256' }, false, [
              'verify',
            ]) as Promise<CryptoKey>;
            this.hmacKeys.set(key.key, imported);
          }
          return imported;
        },
        {
          algorithms: [...new Set([...this.verificationKeys.values()].map((k) => k.alg))],
          typ: TYP,
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          requiredClaims: ['sub', 'iat', 'exp', 'sid', 'role'],
        },
      );
      const role = payload.role as Role;
      if (!ROLES.includes(role) || typeof payload.sid !== 'string' || typeof payload.sub !== 'string') {
        throw new Error('malformed claims');
      }
      // jose accepts any `iat`; one from the future means a wrong clock or a forged token.
      if (typeof payload.iat !== 'number' || payload.iat > Math.floor(Date.now() / 1000) + MAX_CLOCK_SKEW_SECONDS) {
        throw new Error('issued in the future');
      }
      return {
        userId: payload.sub,
        role,
        sessionId: payload.sid,
        tokenExpiresAt: new Date((payload.exp as number) * 1000),
        issuedAt: payload.iat,
      };
    } catch (err) {
      const expired = err instanceof joseErrors.JWTExpired;
      throw new AppError('UNAUTHENTICATED', expired ? 'Access token expired' : 'Invalid access token', {
        reason: expired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID',
      });
    }
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
