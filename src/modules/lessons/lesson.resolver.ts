import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from '../../graphql/type-graphql.js';
import type { GraphQLContext } from '../../context.js';
import type { LessonRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { Course } from '../courses/index.js';
import type { CourseService } from '../courses/index.js';
import type { LessonCommands } from './lesson.commands.js';
import { CreateLessonInput, UpdateLessonInput } from './lesson.inputs.js';
import type { LessonService } from './lesson.service.js';
import { Lesson } from './lesson.type.js';

@Resolver(() => Lesson)
export class LessonResolver {
  constructor(
    private readonly lessonsService: LessonService,
    private readonly coursesService: CourseService,
    private readonly commands: LessonCommands,
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
