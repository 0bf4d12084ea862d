import { Directive, Field, Float, Int, ObjectType } from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import { DateTime } from '../../graphql/scalars.js';
import { LessonStatusCount } from '../lessons/index.js';

@ObjectType('EnrollmentProgress', {
  description:
    "A student's progress through a course. Counted lessons are the course's lessons that are not CANCELLED; " +
    'percent = 100 * completedLessons / totalLessons (0 when there are none).',
})
// Cached as long as the object it hangs off (PRIVATE: its field is), invalidated with it.
@Directive(cacheControl({ inheritMaxAge: true }))
export class EnrollmentProgress {
  @Field(() => Int)
  completedLessons!: number;

  @Field(() => Int)
  totalLessons!: number;

  @Field(() => Float)
  percent!: number;

  @Field(() => DateTime, { nullable: true, description: "The student's latest completion mark in this course." })
  lastActivityAt!: Date | null;
}

@ObjectType('CourseStats')
// Cached as long as the object it hangs off (PRIVATE: its field is), invalidated with it.
@Directive(cacheControl({ inheritMaxAge: true }))
export class CourseStats {
  @Field(() => Int)
  activeEnrollments!: number;

  @Field(() => Float, {
    description: 'Mean of EnrollmentProgress.percent over active enrollments (0 when there are none).',
  })
  averageProgressPercent!: number;

  @Field(() => Int, { description: 'Active students who completed every counted lesson (and there is at least one).' })
  studentsCompleted!: number;

  @Field(() => [LessonStatusCount])
  lessonsByStatus!: LessonStatusCount[];

  @Field(() => DateTime)
  generatedAt!: Date;
}

@ObjectType('CoursePermissions')
// Cached as long as the object it hangs off (PRIVATE: its field is), invalidated with it.
@Directive(cacheControl({ inheritMaxAge: true }))
export class CoursePermissions {
  @Field(() => Boolean) update!: boolean;
  @Field(() => Boolean) publish!: boolean;
  @Field(() => Boolean) archive!: boolean;
  @Field(() => Boolean) delete!: boolean;
  @Field(() => Boolean) manageLessons!: boolean;
  @Field(() => Boolean) enroll!: boolean;
  @Field(() => Boolean) unenroll!: boolean;
  @Field(() => Boolean) readEnrollments!: boolean;
  @Field(() => Boolean) readStats!: boolean;
  @Field(() => Boolean, { description: 'Whether the viewer may write (or rewrite) a review of this course.' })
  review!: boolean;
  @Field(() => Boolean, {
    description: 'Whether the viewer would have to pay to enroll (a paid course, a student, no entitlement).',
  })
  purchase!: boolean;
}

@ObjectType('LessonPermissions')
// Cached as long as the object it hangs off (PRIVATE: its field is), invalidated with it.
@Directive(cacheControl({ inheritMaxAge: true }))
export class LessonPermissions {
  @Field(() => Boolean) update!: boolean;
  @Field(() => Boolean) delete!: boolean;
  @Field(() => Boolean) readContent!: boolean;
  @Field(() => Boolean) markCompleted!: boolean;
}
