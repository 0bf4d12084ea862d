import type { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  Ctx,
  Directive,
  FieldResolver,
  ID,
  Info,
  Mutation,
  Query,
  Resolver,
  Root,
} from '../../graphql/type-graphql.js';
import { cacheControl, CATALOG_MAX_AGE } from '../../cache/cache-control.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { connectionComplexity, PageArgs } from '../../graphql/relay.types.js';
import { User } from '../users/index.js';
import type { UserService } from '../users/index.js';
import type { CourseCommands } from './course.commands.js';
import { CreateCourseInput, UpdateCourseInput } from './course.inputs.js';
import type { CourseService } from './course.service.js';
import { Course, CourseConnection, CourseFilter, CourseOrder } from './course.type.js';

@Resolver(() => Course)
export class CourseResolver {
  constructor(
    private readonly coursesService: CourseService,
    private readonly usersService: UserService,
    private readonly commands: CourseCommands,
  ) {}

  @Mutation(() => Course, { description: 'Instructors and admins. The course starts as a DRAFT.' })
  @Directive(auth({ requires: ['INSTRUCTOR', 'ADMIN'] }))
  createCourse(@Arg('input', () => CreateCourseInput) input: CreateCourseInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.create(ctx, input);
  }

  @Mutation(() => Course, { description: "The course's instructor and admins, here and below." })
  updateCourse(@Arg('input', () => UpdateCourseInput) input: UpdateCourseInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.update(ctx, input);
  }

  @Mutation(() => Course, { description: 'DRAFT or ARCHIVED → PUBLISHED (sets publishedAt the first time).' })
  publishCourse(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.publish(ctx, id);
  }

  @Mutation(() => Course, { description: 'No new enrollments; enrolled students keep access.' })
  archiveCourse(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.archive(ctx, id);
  }

  @Mutation(() => ID, { description: 'CONFLICT while the course has active enrollments. Deletes its lessons too.' })
  deleteCourse(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.delete(ctx, id);
  }

  @Query(() => Course, { nullable: true })
  course(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.coursesService.findVisible(ctx, id);
  }

  @Query(() => Course, { nullable: true })
  courseBySlug(@Arg('slug', () => String) slug: string, @Ctx() ctx: GraphQLContext) {
    return this.coursesService.findVisibleBySlug(ctx, slug);
  }

  @Query(() => CourseConnection, {
    description: 'Courses the viewer may see: everyone sees PUBLISHED ones; instructors also their own; admins all.',
    complexity: connectionComplexity,
  })
  @Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
  courses(
    @Args(() => PageArgs) args: PageArgs,
    @Arg('filter', () => CourseFilter, { nullable: true }) filter: CourseFilter | null,
    @Arg('orderBy', () => CourseOrder, { nullable: true }) orderBy: CourseOrder | null,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ) {
    return this.coursesService.list(ctx, args, filter, orderBy, info);
  }

  @FieldResolver(() => ID)
  id(@Root() course: CourseRow) {
    return toGlobalId('Course', course.id);
  }

  @FieldResolver(() => User)
  instructor(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.usersService.related(ctx, course.instructorId);
  }
}
