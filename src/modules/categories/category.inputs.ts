import { z } from 'zod';
import { Field, ID, InputType } from '../../graphql/type-graphql.js';
import { optional, singleLine, text } from '../../graphql/validation.js';

const NAME_MAX = 100;
const CATEGORY_DESCRIPTION_MAX = 2_000;
const SLUG_MAX = 100;

@InputType('CreateCategoryInput')
export class CreateCategoryInput {
  @Field(() => String, { description: '1 to 100 characters after trimming; unique, case-insensitively.' })
  name!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Lower-case letters, digits and single hyphens; unique. Omitted: made from the name.',
  })
  slug?: string | null;

  @Field(() => String, { nullable: true, description: 'Up to 2,000 characters.' })
  description?: string | null;
}

@InputType('UpdateCategoryInput', { description: 'Omitted fields are left as they are; a null description clears it.' })
export class UpdateCategoryInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  slug?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

const slug = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(SLUG_MAX, `must be at most ${SLUG_MAX} characters`)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case letters and digits separated by single hyphens');

export const createCategorySchema = z.object({
  name: singleLine(1, NAME_MAX),
  slug: optional(slug),
  description: optional(text(CATEGORY_DESCRIPTION_MAX)),
});

export const updateCategorySchema = z.object({
  id: z.string(),
  name: optional(singleLine(1, NAME_MAX)),
  slug: optional(slug),
  description: z
    .string()
    .max(CATEGORY_DESCRIPTION_MAX, `must be at most ${CATEGORY_DESCRIPTION_MAX} characters`)
    .nullish(),
});
