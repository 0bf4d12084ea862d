import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { AppError } from '../errors/app-error.js';
import { ROLES, type Role } from '../modules/users/user.table.js';
import type { Viewer } from './viewer.js';

/**
 * Access tokens: short-lived JWTs, HS256 with the algorithm pinned on verification. Each key
 * has a `kid` derived from its material, so rotating JWT_SECRET (with the old value moved to
 * JWT_PREVIOUS_SECRET) keeps tokens signed by the old key valid until they expire.
 * The `typ` header (RFC 9068 "at+jwt") marks them as access tokens; refresh tokens are
 * opaque random values and never JWTs, so one cannot be used as the other.
 */
const ALG = 'HS256';
const TYP = 'at+jwt';

export interface TokenSettings {
  readonly secret: string;
  readonly previousSecret?: string | undefined;
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

interface SigningKey {
  readonly kid: string;
  readonly key: KeyObject;
}

function keyFromSecret(secret: string): SigningKey {
  const kid = createHash('sha256').update(secret).digest('base64url').slice(0, 16);
  return { kid, key: createSecretKey(Buffer.from(secret, 'utf8')) };
}

export class TokenService {
  private readonly current: SigningKey;
  private readonly verificationKeys: ReadonlyMap<string, KeyObject>;

  constructor(private readonly settings: TokenSettings) {
    this.current = keyFromSecret(settings.secret);
    const keys = new Map([[this.current.kid, this.current.key]]);
    if (settings.previousSecret) {
      const previous = keyFromSecret(settings.previousSecret);
      keys.set(previous.kid, previous.key);
    }
    this.verificationKeys = keys;
  }

  get accessTokenTtlSeconds(): number {
    return this.settings.accessTokenTtlSeconds;
  }

  async signAccessToken(subject: AccessTokenSubject, now = new Date()): Promise<SignedAccessToken> {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.settings.accessTokenTtlSeconds;
    const token = await new SignJWT({ role: subject.role, sid: subject.sessionId })
      .setProtectedHeader({ alg: ALG, typ: TYP, kid: this.current.kid })
      .setSubject(subject.userId)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.current.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** Verifies an access token and returns its viewer; any defect is UNAUTHENTICATED. */
  async verifyAccessToken(token: string): Promise<Viewer> {
    try {
      const { payload } = await jwtVerify(
        token,
        (header: JWTHeaderParameters) => {
          const key = header.kid ? this.verificationKeys.get(header.kid) : undefined;
          if (!key) throw new joseErrors.JWSSignatureVerificationFailed('unknown key id');
          return key;
        },
        {
          algorithms: [ALG],
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
      return {
        userId: payload.sub,
        role,
        sessionId: payload.sid,
        tokenExpiresAt: new Date((payload.exp as number) * 1000),
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
