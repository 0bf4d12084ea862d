import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id at OWASP's minimum recommendation (m = 19 MiB, t = 2, p = 1). Raising these later
 * is safe: `needsRehash` tells when a stored hash was made with weaker settings.
 */
// `algorithm: 2` is Algorithm.Argon2id (a const enum, which isolatedModules cannot import).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash never signs anyone in
  }
}

export function needsRehash(passwordHash: string): boolean {
  const m = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(passwordHash);
  if (!m || !passwordHash.startsWith('$argon2id$')) return true;
  return Number(m[1]) < OPTIONS.memoryCost || Number(m[2]) < OPTIONS.timeCost;
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same work as a real verification, so "no such user" and "wrong password" take
 * about as long as each other and cannot be told apart by timing.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('eduflow-dummy-password-for-timing');
  await verifyPassword(await dummyHash, password);
  return false;
}
