import { z } from 'zod';
import { Field, ID, InputType, Int } from '../../graphql/type-graphql.js';
import { intBetween, optional, singleLine, trimmed } from '../../graphql/validation.js';

@InputType('CreateSectionInput')
export class CreateSectionInput {
  @Field(() => ID)
  courseId!: string;

  @Field(() => String, { description: '1 to 200 characters after trimming.' })
  title!: string;

  @Field(() => Int, { nullable: true, description: '0-based place; omitted: last. Later sections move down.' })
  position?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Optional, 1 to 200 characters, unique per client request: a retry with the same id within a day returns the section the first attempt created instead of creating another (retry with it after a 503 or a lost answer).',
  })
  clientMutationId?: string | null;
}

@InputType('UpdateSectionInput')
export class UpdateSectionInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => Int, { nullable: true, description: '0-based place within the course; the others close up around it.' })
  position?: number | null;
}

@InputType('MoveLessonInput')
export class MoveLessonInput {
  @Field(() => ID)
  lessonId!: string;

  @Field(() => ID, { nullable: true, description: 'The target section of the same course; null: no section.' })
  sectionId?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: '0-based place within the target; omitted: last. The others close up around it.',
  })
  position?: number | null;
}

const position = optional(intBetween(0, 10_000));

export const createSectionSchema = z.object({
  courseId: z.string(),
  title: singleLine(1, 200),
  position,
  clientMutationId: optional(trimmed(1, 200)),
});
export const updateSectionSchema = z.object({ id: z.string(), title: optional(singleLine(1, 200)), position });
export const moveLessonSchema = z.object({ lessonId: z.string(), sectionId: z.string().nullish(), position });
