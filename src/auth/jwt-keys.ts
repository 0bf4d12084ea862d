import { createHash, createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';

/** JWT signing and verification keys, each with a `kid` derived from its (public) material. */
export type JwtAlgorithm = 'HS256' | 'ES256' | 'EdDSA' | 'RS256';

export interface VerificationKey {
  readonly kid: string;
  readonly alg: JwtAlgorithm;
  readonly key: KeyObject;
}

export interface SigningKey extends VerificationKey {
  readonly signWith: KeyObject;
}

function kidOf(material: string | Buffer): string {
  return createHash('sha256').update(material).digest('base64url').slice(0, 16);
}

export function secretKey(secret: string): SigningKey {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return { kid: kidOf(secret), alg: 'HS256', key, signWith: key };
}

/** The JWT algorithm for an asymmetric key, or an error naming what is unsupported. */
export function algorithmOf(key: KeyObject): JwtAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'rsa') {
    // RFC 7518 §3.3 (and jose, which signs): RS256 keys have at least 2048 bits.
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('RSA keys must have at least 2048 bits');
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(`unsupported key type ${key.asymmetricKeyType} (use EC P-256, Ed25519 or RSA)`);
}

export function publicKey(pem: string): VerificationKey {
  const key = createPublicKey(pem);
  return { kid: kidOf(key.export({ type: 'spki', format: 'der' })), alg: algorithmOf(key), key };
}

export function privateKey(pem: string): SigningKey {
  const signWith = createPrivateKey(pem);
  const { kid, alg, key } = publicKey(createPublicKey(signWith).export({ type: 'spki', format: 'pem' }).toString());
  return { kid, alg, key, signWith };
}
