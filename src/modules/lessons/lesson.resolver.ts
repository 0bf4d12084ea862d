import { Directive, Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { LessonRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { Course } from '../courses/index.js';
import type { CourseService } from '../courses/index.js';
import type { LessonCommands } from './lesson.commands.js';
import { allowedTransitions, type LessonLifecycle } from './lesson.lifecycle.js';
import { DateTime } from '../../graphql/scalars.js';
import { CreateLessonInput, UpdateLessonInput } from './lesson.inputs.js';
import type { LessonService } from './lesson.service.js';
import { Lesson, LessonStatus } from './lesson.type.js';

@Resolver(() => Lesson)
export class LessonResolver {
  constructor(
    private readonly lessonsService: LessonService,
    private readonly coursesService: CourseService,
    private readonly commands: LessonCommands,
    private readonly lifecycle: LessonLifecycle,
  ) {}

  @Mutation(() => Lesson, { description: "The course's instructor and admins, here and below." })
  createLesson(@Arg('input', () => CreateLessonInput) input: CreateLessonInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.create(ctx, input);
  }

  @Mutation(() => Lesson)
  updateLesson(@Arg('input', () => UpdateLessonInput) input: UpdateLessonInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.update(ctx, input);
  }

  @Mutation(() => ID)
  deleteLesson(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.delete(ctx, id);
  }

  @Mutation(() => Lesson, { description: 'SCHEDULED → IN_PROGRESS (sets startedAt). CONFLICT from any other status.' })
  startLesson(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.lifecycle.start(ctx, id);
  }

  @Mutation(() => Lesson, { description: 'IN_PROGRESS → COMPLETED (sets completedAt).' })
  completeLesson(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.lifecycle.complete(ctx, id);
  }

  @Mutation(() => Lesson, {
    description: 'SCHEDULED or IN_PROGRESS → CANCELLED (sets cancelledAt); reason up to 500 characters.',
  })
  cancelLesson(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.lifecycle.cancel(ctx, id, reason);
  }

  @Mutation(() => Lesson, { description: 'Only while SCHEDULED; the new time must be in the future.' })
  rescheduleLesson(
    @Arg('id', () => ID) id: string,
    @Arg('scheduledAt', () => DateTime) scheduledAt: Date,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.lifecycle.reschedule(ctx, id, scheduledAt);
  }

  @FieldResolver(() => [LessonStatus], { description: 'The statuses this viewer may move the lesson to next.' })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  async allowedTransitions(@Root() lesson: LessonRow, @Ctx() ctx: GraphQLContext) {
    const course = await ctx.loaders.courses.rowForPolicy.load(lesson.courseId);
    return course ? allowedTransitions(ctx.viewer, course, lesson) : [];
  }

  @Query(() => Lesson, { nullable: true })
  lesson(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.lessonsService.findVisible(ctx, id);
  }

  @FieldResolver(() => ID)
  id(@Root() lesson: LessonRow) {
    return toGlobalId('Lesson', lesson.id);
  }

  @FieldResolver(() => Course)
  course(@Root() lesson: LessonRow, @Ctx() ctx: GraphQLContext) {
    return this.coursesService.related(ctx, lesson.courseId);
  }
}
