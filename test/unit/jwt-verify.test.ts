import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { describe, expect, it } from 'vitest';
import { publicKey, secretKey, type VerificationKey } from '../../src/auth/jwt-keys.js';
import { JwtRejected, verifyJwt, type JwtRules } from '../../src/auth/jwt-verify.js';

/**
 * Our verifier (node:crypto, synchronous) against jose's `jwtVerify` with the options
 * TokenService used to give it: on thousands of generated tokens, both must accept the same
 * ones with the same claims, and call the same ones expired. The tokens vary what an attacker
 * or a misconfigured issuer controls: header (alg, kid, typ, crit), claims (types, presence,
 * times, issuer, audience), payload shape and encoding, and the bytes of each part.
 */
const pair = (type: 'ec' | 'ed25519' | 'rsa') =>
  type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519');
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();

interface TestKey {
  readonly verification: VerificationKey;
  /** How the test signs with it (the algorithm its key really has). */
  readonly sign: (input: Buffer) => Buffer;
}
const hmacKey = (secret: string): TestKey => ({
  verification: secretKey(secret),
  sign: (input) => createHmac('sha256', secret).update(input).digest(),
});
const asymmetric = (type: 'ec' | 'ed25519' | 'rsa'): TestKey => {
  const { privateKey, publicKey: pub } = pair(type);
  const verification = publicKey(spki(pub));
  return {
    verification,
    sign: (input) =>
      verification.alg === 'ES256'
        ? sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' })
        : sign(verification.alg === 'EdDSA' ? null : 'sha256', input, privateKey),
  };
};
const known = [
  hmacKey('a'.repeat(40)),
  hmacKey('b'.repeat(40)),
  asymmetric('ec'),
  asymmetric('ed25519'),
  asymmetric('rsa'),
];
/** Signs like ours but is not one of ours. */
const stranger = hmacKey('c'.repeat(40));
/** HMAC with the RSA key's public PEM as the secret: the classic HS/RS confusion. */
const rsaPem = spki(known[4]!.verification.key);
const confused: TestKey = {
  verification: known[4]!.verification,
  sign: (i) => createHmac('sha256', rsaPem).update(i).digest(),
};

const rules: JwtRules = {
  keys: new Map(known.map((k) => [k.verification.kid, k.verification])),
  typ: 'at+jwt',
  issuer: 'eduflow',
  audience: 'eduflow-api',
  requiredClaims: ['sub', 'iat', 'exp', 'sid', 'role'],
  maxLifetimeSeconds: 930, // a 900 s TTL plus 30 s of clock skew
};
const NOW = 1_800_000_000;

/**
 * The oracle: jose, plus our two rules on top of it (jwt-verify.ts): canonical base64url in
 * every part, and no lifetime over `maxLifetimeSeconds` (an expired token is reported expired).
 */
const onTop = { respelled: 0, overlong: 0 };
async function expected(token: string): Promise<{ claims: unknown } | { expired: boolean }> {
  const verdict = await jose(token);
  // A non-canonical spelling is refused as malformed, before its claims are read.
  if (!token.split('.').every(canonical)) {
    if ('claims' in verdict) onTop.respelled++;
    return { expired: false };
  }
  if (!('claims' in verdict)) return verdict;
  const { iat, exp } = verdict.claims as { iat: number; exp: number };
  if (exp - NOW > rules.maxLifetimeSeconds! || exp - iat > rules.maxLifetimeSeconds!) {
    onTop.overlong++;
    return { expired: false };
  }
  return verdict;
}
const canonical = (part: string) => Buffer.from(part, 'base64url').toString('base64url') === part;

/** jose, as TokenService called it before: the oracle. */
async function jose(token: string): Promise<{ claims: unknown } | { expired: boolean }> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const key = header.kid ? rules.keys.get(header.kid) : undefined;
        if (!key || key.alg !== header.alg) throw new joseErrors.JWSSignatureVerificationFailed('unknown key');
        return key.key;
      },
      {
        algorithms: [...new Set(known.map((k) => k.verification.alg))],
        typ: rules.typ,
        issuer: rules.issuer,
        audience: rules.audience,
        requiredClaims: [...rules.requiredClaims],
        currentDate: new Date(NOW * 1000),
      },
    );
    return { claims: payload };
  } catch (err) {
    return { expired: err instanceof joseErrors.JWTExpired };
  }
}

function ours(token: string): { claims: unknown } | { expired: boolean } {
  try {
    return { claims: verifyJwt(token, rules, NOW) };
  } catch (err) {
    expect(err).toBeInstanceOf(JwtRejected);
    return { expired: (err as JwtRejected).expired };
  }
}

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');

/** Mostly the good value (so that tokens often verify), sometimes one of the bad ones. */
const goodOr = <T>(good: T, ...bad: T[]) =>
  fc.oneof({ weight: 9, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: fc.constantFrom(...bad) });
const signer = fc.constantFrom(...known, ...known, stranger, confused);
/** The header of a token signed by `key`: usually its own alg and kid. */
const headerFor = (key: TestKey) =>
  fc.record({
    alg: goodOr<unknown>(key.verification.alg, 'HS256', 'ES256', 'EdDSA', 'RS256', 'none', 'HS512', undefined, 7),
    kid: goodOr<unknown>(key.verification.kid, ...known.map((k) => k.verification.kid), 'nope', undefined, 1),
    typ: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+Jwt') },
      {
        weight: 1,
        arbitrary: fc.constantFrom<unknown>('JWT', 'x/at+jwt', 'application/application/at+jwt', 5, undefined),
      },
    ),
    crit: goodOr<unknown>(undefined, ['exp'], [], 'b64'),
  });
const claims = fc.record({
  sub: goodOr<unknown>('3f1c1d5e-8a4b-4c6d-9e7f-0a1b2c3d4e5f', 7, undefined),
  role: goodOr<unknown>('STUDENT', 'ADMIN', undefined),
  sid: goodOr<unknown>('11111111-2222-4333-8444-555555555555', undefined),
  iss: goodOr<unknown>('eduflow', 'other', ['eduflow'], undefined),
  aud: goodOr<unknown>('eduflow-api', ['x', 'eduflow-api'], ['x'], 'other', [], undefined),
  iat: goodOr<unknown>(NOW - 10, NOW + 100, '1', undefined),
  nbf: goodOr<unknown>(undefined, NOW - 5, NOW, NOW + 60, 'x'),
  exp: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<unknown>(NOW + 600, NOW + 1) },
    // Over-long lifetimes (a holder of the key minting its own): 920 s is within 930 from NOW - 10.
    { weight: 2, arbitrary: fc.constantFrom<unknown>(NOW + 910, NOW + 921, NOW + 931, NOW + 86_400, 1e16) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(NOW, NOW - 1) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('9999999999', undefined) },
  ),
});
/** The payload as sent: the claims as JSON, or not an object, not JSON, not UTF-8. */
const payloadBytes = fc.oneof(
  { weight: 12, arbitrary: claims.map((c) => Buffer.from(JSON.stringify(c))) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Buffer.from('[1]'),
      Buffer.from('not json'),
      Buffer.from([0x7b, 0xff, 0x7d]),
      Buffer.from('null'),
    ),
  },
);
const mutation = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('flip' as const), part: fc.integer({ min: 0, max: 2 }), at: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { kind: 'lowbits' as const },
      { kind: 'lowbits' as const },
      { kind: 'pad' as const },
      { kind: 'truncate' as const },
      { kind: 'extra' as const },
      { kind: 'unsigned' as const },
    ),
  },
);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function tokenOf(
  h: Record<string, unknown>,
  payload: Buffer,
  key: TestKey,
  m: { kind: string; part?: number; at?: number },
): string {
  const head = b64(JSON.stringify(h));
  const body = b64(payload);
  const parts = [head, body, b64(key.sign(Buffer.from(`${head}.${body}`)))];
  switch (m.kind) {
    case 'flip': {
      const part = parts[m.part!]!;
      if (part.length === 0) break;
      const i = m.at! % part.length;
      const next = ALPHABET[(ALPHABET.indexOf(part[i]!) + 1) % ALPHABET.length]!;
      parts[m.part!] = part.slice(0, i) + next + part.slice(i + 1);
      break;
    }
    case 'pad':
      parts[2] += '=';
      break;
    case 'lowbits': {
      // Another spelling of the same signature bytes: the last character's unused bits set.
      const sig = parts[2]!;
      const unused = sig.length % 4 === 2 ? 0x0f : sig.length % 4 === 3 ? 0x03 : 0;
      const last = ALPHABET.indexOf(sig.at(-1)!);
      if (unused) parts[2] = sig.slice(0, -1) + ALPHABET[last | unused]!;
      break;
    }
    case 'truncate':
      parts[2] = parts[2]!.slice(0, -1);
      break;
    case 'extra':
      parts.push('e30');
      break;
    case 'unsigned':
      parts[2] = '';
      break;
  }
  return parts.join('.');
}

describe('verifyJwt', () => {
  it('accepts and rejects exactly the tokens jose does, with the same claims and the same expiries', async () => {
    let accepted = 0;
    let expired = 0;
    await fc.assert(
      fc.asyncProperty(
        signer.chain((key) => fc.tuple(fc.constant(key), headerFor(key))),
        payloadBytes,
        mutation,
        async ([key, h], payload, m) => {
          const headerObject = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined));
          const token = tokenOf(headerObject, payload, key, m);
          const mine = ours(token);
          const theirs = await expected(token);
          if ('claims' in mine) accepted++;
          else if (mine.expired) expired++;
          // Padding: jose's base64url decoder takes it, RFC 7515 §2 does not; we refuse it.
          expect(mine).toEqual(m.kind === 'pad' ? { expired: false } : theirs);
        },
      ),
      { numRuns: 3_000, seed: 14 },
    );
    // The generator must reach both outcomes often enough for the comparison to mean something.
    expect(accepted).toBeGreaterThan(20);
    expect(expired).toBeGreaterThan(20);
    // ...and tokens jose takes that our two rules refuse: other spellings, over-long lifetimes.
    expect(onTop.respelled).toBeGreaterThan(5);
    expect(onTop.overlong).toBeGreaterThan(20);
  });

  it('accepts a good token of each of our keys, and only with its own algorithm', () => {
    for (const key of known) {
      const { kid, alg } = key.verification;
      const claimsSet = {
        sub: 'u',
        role: 'STUDENT',
        sid: 's',
        iss: 'eduflow',
        aud: 'eduflow-api',
        iat: NOW,
        exp: NOW + 60,
      };
      const good = tokenOf({ alg, kid, typ: 'at+jwt' }, Buffer.from(JSON.stringify(claimsSet)), key, { kind: 'none' });
      expect(verifyJwt(good, rules, NOW)).toEqual(claimsSet);
      for (const other of ['HS256', 'ES256', 'EdDSA', 'RS256', 'none'].filter((a) => a !== alg)) {
        const wrong = tokenOf({ alg: other, kid, typ: 'at+jwt' }, Buffer.from(JSON.stringify(claimsSet)), key, {
          kind: 'none',
        });
        expect(() => verifyJwt(wrong, rules, NOW)).toThrow(JwtRejected);
      }
    }
  });

  it('remembers an accepted header per rule set only: a key another rule set lacks is still refused', () => {
    const key = known[0]!;
    const { kid, alg } = key.verification;
    const claimsSet = {
      sub: 'u',
      role: 'STUDENT',
      sid: 's',
      iss: 'eduflow',
      aud: 'eduflow-api',
      iat: NOW,
      exp: NOW + 60,
    };
    const good = tokenOf({ alg, kid, typ: 'at+jwt' }, Buffer.from(JSON.stringify(claimsSet)), key, { kind: 'none' });
    expect(verifyJwt(good, rules, NOW)).toEqual(claimsSet);
    // The same header text, after the key was rotated out: the memo of the first rule set must not answer.
    const rotated: JwtRules = { ...rules, keys: new Map([...rules.keys].filter(([k]) => k !== kid)) };
    expect(() => verifyJwt(good, rotated, NOW)).toThrow(/unknown key/);
    // And a token with a remembered header is still checked in full: a bad signature is refused.
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${Buffer.alloc(32).toString('base64url')}`;
    expect(() => verifyJwt(forged, rules, NOW)).toThrow(/signature/);
  });

  it('refuses RSA keys under 2048 bits at start-up, as jose would refuse every token they sign', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => publicKey(spki(small))).toThrow(/2048/);
  });
});
