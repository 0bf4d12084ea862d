import { createHmac, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import type { VerificationKey } from './jwt-keys.js';

/**
 * Synchronous verification of our compact JWS access tokens with node:crypto.
 *
 * Why not jose's `jwtVerify` (jose still signs): jose 6 verifies only through WebCrypto, where
 * each verification is a job handed to libuv's thread pool and awaited; the measurement and
 * when to revisit are in docs/decisions/jwt-verifier-node-crypto.md. The rules are jose's, for the options we gave it, and a property test checks
 * that both accept and reject the same tokens (test/unit/jwt-verify.test.ts):
 *  - three base64url parts (no padding, no other characters: jose would also take padding);
 *    the header and the claims are JSON objects in valid UTF-8;
 *  - the key is the one the header's `kid` names, and only with that key's algorithm (no
 *    `alg: none`, no HS/RS confusion); no `crit` extensions (jose would take `b64: true`, which
 *    changes nothing; we sign without it);
 *  - `typ` is ours (compared as jose does: case-insensitively, "application/" optional);
 *  - the signature first, then the claims: the required ones present, `iss` and `aud` ours,
 *    `iat`/`nbf`/`exp` numbers when present, `nbf` not in the future, `exp` not passed.
 * Two rules of our own on top (the property test's oracle is jose plus these):
 *  - every part in canonical base64url: the unused low bits of a last character must be zero
 *    (a lenient decoder ignores them, which gives one token four spellings);
 *  - with `maxLifetimeSeconds`, no token living longer (`exp - iat`, and `exp` from now): a
 *    holder of the key cannot mint one that outlives every rotation.
 */
export interface JwtRules {
  /** By `kid`. */
  readonly keys: ReadonlyMap<string, VerificationKey>;
  readonly typ: string;
  readonly issuer: string;
  readonly audience: string;
  readonly requiredClaims: readonly string[];
  /** The longest lifetime a token may claim (the access-token TTL plus the clock skew). */
  readonly maxLifetimeSeconds?: number;
}

export type JwtClaims = Record<string, unknown>;

/** Why a token was refused; `expired` only for a token that is otherwise good. */
export class JwtRejected extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
    this.name = 'JwtRejected';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A base64url part as bytes; refuses what a strict decoder refuses (Buffer would skip it). */
function decodePart(part: string, what: string): Buffer {
  if (!BASE64URL.test(part) || part.length % 4 === 1) throw new JwtRejected(`${what} is not base64url`);
  const bytes = Buffer.from(part, 'base64url');
  // Canonical only: Buffer ignores the unused bits of the last character, a re-encoding does not.
  if (!lastCharCanonical(part)) throw new JwtRejected(`${what} is not canonical base64url`);
  return bytes;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The last character of a base64url text carries 2 or 4 unused bits (length % 4 = 2 or 3): zero. */
function lastCharCanonical(part: string): boolean {
  const rest = part.length % 4;
  if (rest === 0) return true;
  const value = ALPHABET.indexOf(part[part.length - 1]!);
  return (value & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** Invalid UTF-8 is refused, not replaced (as jose does). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function jsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new JwtRejected(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new JwtRejected(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** jose's `typ` comparison: "at+jwt" and "application/at+jwt" are the same media type. */
const normalizeTyp = (typ: string) => (typ.includes('/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`);

function signatureValid(key: VerificationKey, signingInput: string, signature: Buffer): boolean {
  try {
    return signatureMatches(key, signingInput, signature);
  } catch {
    return false; // a signature of the wrong shape for its key
  }
}

function signatureMatches(key: VerificationKey, signingInput: string, signature: Buffer): boolean {
  switch (key.alg) {
    case 'HS256': {
      const mac = createHmac('sha256', key.key).update(signingInput).digest();
      return signature.length === mac.length && timingSafeEqual(signature, mac);
    }
    case 'ES256':
      // JWS carries r‖s (IEEE P1363), not DER.
      return verifySignature(
        'sha256',
        Buffer.from(signingInput),
        { key: key.key, dsaEncoding: 'ieee-p1363' },
        signature,
      );
    case 'EdDSA':
      return verifySignature(null, Buffer.from(signingInput), key.key, signature);
    case 'RS256':
      return verifySignature('sha256', Buffer.from(signingInput), key.key, signature);
  }
}

/** Headers we accepted, by their encoded text, per rule set: at most a few (one per key and `typ` spelling). */
const acceptedHeaders = new WeakMap<JwtRules, Map<string, VerificationKey>>();
const MAX_ACCEPTED_HEADERS = 16;

/**
 * The key a header names, or a `JwtRejected`. Every token one key signs carries the same
 * header, so a header accepted once is known by its text (sockets connect by the thousand,
 * each with its own token); only accepted headers are remembered, and only a few, so
 * a stream of made-up headers cannot grow the memo.
 */
function headerKey(encodedHeader: string, rules: JwtRules): VerificationKey {
  let accepted = acceptedHeaders.get(rules);
  const known = accepted?.get(encodedHeader);
  if (known) return known;
  const header = jsonObject(decodePart(encodedHeader, 'the header'), 'the header');
  const { kid, alg, typ } = header;
  const key = typeof kid === 'string' ? rules.keys.get(kid) : undefined;
  if (!key || key.alg !== alg) throw new JwtRejected('unknown key or algorithm');
  if (header.crit !== undefined) throw new JwtRejected('unsupported crit header');
  if (typeof typ !== 'string' || normalizeTyp(typ) !== normalizeTyp(rules.typ)) throw new JwtRejected('wrong typ');
  if (!accepted) acceptedHeaders.set(rules, (accepted = new Map()));
  if (accepted.size < MAX_ACCEPTED_HEADERS) accepted.set(encodedHeader, key);
  return key;
}

/** The token's claims, or a `JwtRejected` saying why not. `now` in seconds since the epoch. */
export function verifyJwt(token: string, rules: JwtRules, now = Math.floor(Date.now() / 1000)): JwtClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtRejected('not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const key = headerKey(encodedHeader, rules);
  const signature = decodePart(encodedSignature, 'the signature');
  const payloadBytes = decodePart(encodedPayload, 'the payload');
  if (!signatureValid(key, `${encodedHeader}.${encodedPayload}`, signature))
    throw new JwtRejected('signature verification failed');

  const claims = jsonObject(payloadBytes, 'the claims');
  for (const claim of rules.requiredClaims)
    if (!Object.hasOwn(claims, claim)) throw new JwtRejected(`missing ${claim}`);
  if (claims.iss !== rules.issuer) throw new JwtRejected('wrong issuer');
  const { aud } = claims;
  if (!(aud === rules.audience || (Array.isArray(aud) && aud.includes(rules.audience))))
    throw new JwtRejected('wrong audience');
  for (const name of ['iat', 'nbf', 'exp'] as const)
    if (claims[name] !== undefined && typeof claims[name] !== 'number')
      throw new JwtRejected(`${name} is not a number`);
  if (typeof claims.nbf === 'number' && claims.nbf > now) throw new JwtRejected('not yet valid');
  if (typeof claims.exp === 'number' && claims.exp <= now) throw new JwtRejected('expired', true);
  const max = rules.maxLifetimeSeconds;
  if (max !== undefined && typeof claims.exp === 'number') {
    if (claims.exp - now > max || (typeof claims.iat === 'number' && claims.exp - claims.iat > max))
      throw new JwtRejected('lifetime longer than allowed');
  }
  return claims;
}
