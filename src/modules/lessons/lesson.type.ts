import { ArgsType, Directive, Field, Int, ObjectType, registerEnumType } from '../../graphql/type-graphql.js';
import { cacheControl, CATALOG_MAX_AGE } from '../../cache/cache-control.js';
import { auth } from '../../auth/auth.directive.js';
import { connectionOf, ForwardPageArgs, Node } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import type { LessonStatus as LessonStatusValue } from './lesson.table.js';

export const LessonStatus = {
  SCHEDULED: 'SCHEDULED',
  IN_PROGRESS: 'IN_PROGRESS',
  COMPLETED: 'COMPLETED',
  CANCELLED: 'CANCELLED',
} as const;
registerEnumType(LessonStatus, { name: 'LessonStatus' });

@ObjectType('Lesson', { implements: Node })
@Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
export class Lesson extends Node {
  @Field(() => String)
  title!: string;

  @Field(() => Int)
  position!: number;

  @Field(() => LessonStatus)
  status!: LessonStatusValue;

  @Field(() => DateTime, { nullable: true })
  scheduledAt!: Date | null;

  @Field(() => Int, { nullable: true })
  durationMinutes!: number | null;

  @Field(() => DateTime, { nullable: true })
  startedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  completedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  cancelledAt!: Date | null;

  @Field(() => String, { nullable: true })
  cancellationReason!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Only students actively enrolled in the course, its instructor and admins may read it.',
  })
  @Directive(auth({ requires: ['ADMIN'], allow: ['COURSE_INSTRUCTOR', 'ENROLLED_STUDENT'] }))
  content!: string | null;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime)
  updatedAt!: Date;
}

/** Lessons per status: platform statistics and a course's statistics. */
@ObjectType('LessonStatusCount')
@Directive(cacheControl({ inheritMaxAge: true }))
export class LessonStatusCount {
  @Field(() => LessonStatus)
  status!: LessonStatusValue;

  @Field(() => Int)
  count!: number;
}

export const LessonConnection = connectionOf('Lesson', Lesson);

@ArgsType()
export class LessonPageArgs extends ForwardPageArgs {
  @Field(() => LessonStatus, { nullable: true })
  status?: LessonStatusValue | null;
}
