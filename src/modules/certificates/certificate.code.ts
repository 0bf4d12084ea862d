import { randomBytes } from 'node:crypto';

// Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is unambiguous.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A certificate code: 20 random base32 characters (100 bits, well past the 72 needed to be
 * unguessable), in groups of four: `7K2M-Q9XD-...`. Codes are matched case-insensitively.
 */
export function newCertificateCode(): string {
  const bytes = randomBytes(20);
  let code = '';
  for (let i = 0; i < 20; i++) {
    if (i > 0 && i % 4 === 0) code += '-';
    code += ALPHABET[bytes[i]! & 31];
  }
  return code;
}

/** A code as typed (any case, with or without dashes), in its stored form; null if it cannot be one. */
export function normalizeCode(input: string): string | null {
  const raw = input.trim().toUpperCase().replace(/-/g, '');
  if (raw.length !== 20 || ![...raw].every((c) => ALPHABET.includes(c))) return null;
  return raw.match(/.{4}/g)!.join('-');
}
