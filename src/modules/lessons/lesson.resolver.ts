import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from '../../graphql/type-graphql.js';
import type { GraphQLContext } from '../../context.js';
import type { LessonRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { Course } from '../courses/index.js';
import type { CourseService } from '../courses/index.js';
import type { LessonService } from './lesson.service.js';
import { Lesson } from './lesson.type.js';

@Resolver(() => Lesson)
export class LessonResolver {
  constructor(
    private readonly lessonsService: LessonService,
    private readonly coursesService: CourseService,
  ) {}

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
