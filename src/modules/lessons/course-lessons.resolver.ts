import type { GraphQLResolveInfo } from 'graphql';
import { Args, Ctx, FieldResolver, Info, Int, Resolver, Root } from '../../graphql/type-graphql.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow } from '../../db/schema.js';
import { connectionComplexity } from '../../graphql/relay.types.js';
import { Course } from '../courses/index.js';
import type { LessonService } from './lesson.service.js';
import { lessonListColumns } from './lesson.repository.js';
import { LessonConnection, LessonPageArgs } from './lesson.type.js';

/** A course's lessons: here, not in courses/, because lessons depend on courses. */
@Resolver(() => Course)
export class CourseLessonsResolver {
  constructor(private readonly lessonsService: LessonService) {}

  @FieldResolver(() => LessonConnection, { complexity: connectionComplexity })
  lessons(
    @Root() course: CourseRow,
    @Args(() => LessonPageArgs) args: LessonPageArgs,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ) {
    return this.lessonsService.ofCourse(ctx, course.id, args, args.status ?? null, lessonListColumns.of(info));
  }

  @FieldResolver(() => Int)
  lessonCount(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.lessonsService.countOfCourse(ctx, course.id);
  }
}
