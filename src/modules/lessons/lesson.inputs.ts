import { z } from 'zod';
import { DateTime } from '../../graphql/scalars.js';
import { Field, ID, InputType, Int } from '../../graphql/type-graphql.js';
import { intBetween, optional, singleLine, text, trimmed } from '../../graphql/validation.js';

const CONTENT_MAX = 100_000;

@InputType('CreateLessonInput')
export class CreateLessonInput {
  @Field(() => ID)
  courseId!: string;

  @Field(() => String, { description: '1 to 200 characters after trimming.' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'Up to 100,000 characters.' })
  content?: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      '0-based place in its section (or among lessons without one), 0 to 10,000. Omitted: last. Later lessons move down.',
  })
  position?: number | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The section to put the lesson in (of the same course); omitted: no section.',
  })
  sectionId?: string | null;

  @Field(() => DateTime, { nullable: true })
  scheduledAt?: Date | null;

  @Field(() => Int, { nullable: true, description: '1 to 1440.' })
  durationMinutes?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Optional, 1 to 200 characters, unique per client request: a retry with the same id within a day returns the lesson the first attempt created instead of creating another (retry with it after a 503 or a lost answer).',
  })
  clientMutationId?: string | null;
}

@InputType('UpdateLessonInput', { description: 'Omitted or null fields are left as they are.' })
export class UpdateLessonInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  content?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: '0-based place within its section (or among lessons without one); the others close up around it.',
  })
  position?: number | null;

  @Field(() => Int, { nullable: true })
  durationMinutes?: number | null;
}

const fields = {
  title: singleLine(1, 200),
  content: optional(text(CONTENT_MAX)),
  position: optional(intBetween(0, 10_000)),
  durationMinutes: optional(intBetween(1, 1440)),
};

export const createLessonSchema = z.object({
  courseId: z.string(),
  ...fields,
  scheduledAt: optional(z.date()),
  clientMutationId: optional(trimmed(1, 200)),
  sectionId: optional(z.string()),
});

export const updateLessonSchema = z.object({ id: z.string(), ...fields, title: optional(fields.title) });

/** `cancelLesson`'s reason. */
export const reasonSchema = z.object({
  reason: optional(z.string().trim().max(500, 'must be at most 500 characters')),
});
