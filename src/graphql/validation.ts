import { z } from 'zod';
import { AppError, type FieldErrors } from '../errors/app-error.js';

/**
 * Input validation with zod: every problem of an input becomes one entry of
 * `extensions.fieldErrors` (field name → message) on a single BAD_USER_INPUT error.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fieldErrors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = issue.path.map(String).join('.') || 'input';
    fieldErrors[field] ??= issue.message;
  }
  throw AppError.badInput(fieldErrors);
}

/** A string trimmed before its length is checked. */
export const trimmed = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`);

/**
 * A one-line string (titles, names): trimmed, and without control characters (CR, LF, tab,
 * U+0000..U+001F, U+007F..U+009F, line and paragraph separators). Titles become email subjects
 * and must never carry a line break into a mail header.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const SINGLE_LINE = /^[^\u0000-\u001F\u007F-\u009F\u2028\u2029]*$/;

export const singleLine = (min: number, max: number) =>
  trimmed(min, max).regex(SINGLE_LINE, 'must be a single line without control characters');

export const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const intBetween = (min: number, max: number) =>
  z
    .number()
    .int('must be a whole number')
    .min(min, `must be between ${min} and ${max}`)
    .max(max, `must be between ${min} and ${max}`);

export const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'));

/** Treats GraphQL's explicit `null` like an absent field (for optional update fields). */
export const optional = <S extends z.ZodType>(schema: S) =>
  z.preprocess((v) => (v === null ? undefined : v), schema.optional());
