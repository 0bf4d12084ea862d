import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { EnrollmentRow, LessonRow } from '../../db/schema.js';
import { DateTime } from '../../graphql/scalars.js';
import { Enrollment } from '../enrollments/index.js';
import { Lesson } from '../lessons/index.js';
import type { ProgressCommands } from './progress.commands.js';
import type { ProgressService } from './progress.service.js';
import { EnrollmentProgress, LessonPermissions } from './progress.type.js';

/** Completion marks and lesson permissions: here, because they depend on lessons and enrollments. */
@Resolver(() => Lesson)
export class LessonProgressResolver {
  constructor(
    private readonly service: ProgressService,
    private readonly commands: ProgressCommands,
  ) {}

  @Mutation(() => Lesson, {
    description:
      "Students actively enrolled in the lesson's course; the lesson must not be CANCELLED. Idempotent: marking twice keeps the first completedAt.",
  })
  markLessonCompleted(@Arg('lessonId', () => ID) lessonId: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.mark(ctx, lessonId);
  }

  @Mutation(() => Lesson)
  unmarkLessonCompleted(@Arg('lessonId', () => ID) lessonId: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.unmark(ctx, lessonId);
  }

  @FieldResolver(() => DateTime, {
    nullable: true,
    description: 'When the signed-in viewer marked this lesson completed; null otherwise (and for anonymous).',
    complexity: 2,
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  viewerCompletedAt(@Root() lesson: LessonRow, @Ctx() ctx: GraphQLContext) {
    return this.service.viewerCompletedAt(ctx, lesson);
  }

  @FieldResolver(() => LessonPermissions, {
    description: 'What the viewer may do with this lesson, decided by the same rules that enforce it.',
    complexity: 3,
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  viewerCan(@Root() lesson: LessonRow, @Ctx() ctx: GraphQLContext) {
    return this.service.lessonCan(ctx, lesson);
  }
}

@Resolver(() => Enrollment)
export class EnrollmentProgressResolver {
  constructor(private readonly service: ProgressService) {}

  /** Visible wherever the enrollment is (the student, the course's roster, admins). */
  @FieldResolver(() => EnrollmentProgress, { complexity: 3 })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  progress(@Root() enrollment: EnrollmentRow, @Ctx() ctx: GraphQLContext) {
    return this.service.progressOf(ctx, enrollment);
  }
}
