import { z } from 'zod';
import { Field, ID, InputType, Int } from '../../graphql/type-graphql.js';
import { intBetween, optional, singleLine } from '../../graphql/validation.js';

@InputType('CreateSectionInput')
export class CreateSectionInput {
  @Field(() => ID)
  courseId!: string;

  @Field(() => String, { description: '1 to 200 characters after trimming.' })
  title!: string;

  @Field(() => Int, { nullable: true, description: '0-based place; omitted: last. Later sections move down.' })
  position?: number | null;
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

export const createSectionSchema = z.object({ courseId: z.string(), title: singleLine(1, 200), position });
export const updateSectionSchema = z.object({ id: z.string(), title: optional(singleLine(1, 200)), position });
export const moveLessonSchema = z.object({ lessonId: z.string(), sectionId: z.string().nullish(), position });
