import { passwordScore } from './password-strength.js';

const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;
/** zxcvbn's scale: 3 is "safely unguessable" against an online attack, its own recommendation. */
const MIN_SCORE = 3;

/**
 * The cheap, synchronous part of the policy: length, variety and not the email. Input schemas
 * run it (its message joins the other fields' errors); `passwordProblem` runs it first too.
 */
export function passwordShapeProblem(password: string, email?: string): string | null {
  if (password.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  const lower = password.toLowerCase();
  if (new Set(lower).size < 4) return 'is too simple; use more different characters';
  const local = email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) return 'must not contain your email address';
  return null;
}

/**
 * Why a new password is refused, or null when it is acceptable: the shape rules above, and not
 * (close to) a breached or common password, names and words included (zxcvbn-ts with its common
 * and English dictionaries, embedded: no network call; scored on a worker thread).
 */
export async function passwordProblem(password: string, email?: string): Promise<string | null> {
  const shape = passwordShapeProblem(password, email);
  if (shape) return shape;
  const local = email?.split('@')[0]?.toLowerCase();
  if ((await passwordScore(password, email ? [email, local ?? ''] : [])) < MIN_SCORE)
    return 'is too common or too easy to guess (it is, or is close to, a known breached password); choose a longer, less predictable one, such as a few unrelated words';
  return null;
}
