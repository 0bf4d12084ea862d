import { z } from 'zod';
import { Field, ID, InputType, Int } from '../../graphql/type-graphql.js';
import { intBetween, optional, singleLine, text, trimmed } from '../../graphql/validation.js';

const TITLE_MAX = 200;
const DESCRIPTION_MAX = 20_000;
const PRICE_MAX = 10_000_000;
const SLUG_MAX = 100;

@InputType('CreateCourseInput')
export class CreateCourseInput {
  @Field(() => String, { description: '1 to 200 characters after trimming.' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'Up to 20,000 characters.' })
  description?: string | null;

  @Field(() => Int, { nullable: true, description: '0 to 10,000,000 (default 0: free).' })
  priceCents?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Lower-case letters, digits and single hyphens. Omitted: made from the title, with a suffix when taken.',
  })
  slug?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Optional, 1 to 200 characters, unique per client request: a retry with the same id within a day returns the course the first attempt created instead of creating another (retry with it after a 503 or a lost answer).',
  })
  clientMutationId?: string | null;

  @Field(() => ID, { nullable: true })
  categoryId?: string | null;
}

@InputType('UpdateCourseInput', { description: 'Omitted or null fields are left as they are.' })
export class UpdateCourseInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Int, { nullable: true })
  priceCents?: number | null;

  @Field(() => ID, { nullable: true, description: 'null removes the course from its category.' })
  categoryId?: string | null;
}

const slug = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(SLUG_MAX, `must be at most ${SLUG_MAX} characters`)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case letters and digits separated by single hyphens');

export const createCourseSchema = z.object({
  title: singleLine(1, TITLE_MAX),
  description: optional(text(DESCRIPTION_MAX)),
  priceCents: optional(intBetween(0, PRICE_MAX)),
  slug: optional(slug),
  clientMutationId: optional(trimmed(1, 200)),
  categoryId: optional(z.string()),
});

export const updateCourseSchema = z.object({
  id: z.string(),
  title: optional(singleLine(1, TITLE_MAX)),
  description: optional(text(DESCRIPTION_MAX)),
  priceCents: optional(intBetween(0, PRICE_MAX)),
  // null (remove from its category) differs from omitted here.
  categoryId: z.string().nullish(),
});

/** "Crème brûlée 101!" → "creme-brulee-101"; never empty (`fallback` when nothing is left). */
export function slugify(title: string, fallback = 'course'): string {
  const s = title
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/g, '');
  return s || fallback;
}
