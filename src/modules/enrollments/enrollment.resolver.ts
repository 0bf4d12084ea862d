import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import type { EnrollmentRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { Course } from '../courses/index.js';
import type { CourseService } from '../courses/index.js';
import { User } from '../users/index.js';
import type { UserService } from '../users/index.js';
import type { EnrollmentCommands } from './enrollment.commands.js';
import type { EnrollmentService } from './enrollment.service.js';
import { Enrollment } from './enrollment.type.js';

@Resolver(() => Enrollment)
export class EnrollmentResolver {
  constructor(
    private readonly enrollmentsService: EnrollmentService,
    private readonly usersService: UserService,
    private readonly coursesService: CourseService,
    private readonly commands: EnrollmentCommands,
  ) {}

  @Mutation(() => Enrollment, { description: 'Students only, PUBLISHED courses only; enrolling twice is a CONFLICT.' })
  @Directive(auth({ requires: ['STUDENT'] }))
  enroll(@Arg('courseId', () => ID) courseId: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.enroll(ctx, courseId);
  }

  @Mutation(() => Enrollment, { description: "Cancels the viewer's active enrollment in the course." })
  unenroll(@Arg('courseId', () => ID) courseId: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.unenroll(ctx, courseId);
  }

  @Query(() => Enrollment, { nullable: true })
  enrollment(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.enrollmentsService.findVisible(ctx, id);
  }

  @FieldResolver(() => ID)
  id(@Root() enrollment: EnrollmentRow) {
    return toGlobalId('Enrollment', enrollment.id);
  }

  @FieldResolver(() => User)
  student(@Root() enrollment: EnrollmentRow, @Ctx() ctx: GraphQLContext) {
    return this.usersService.related(ctx, enrollment.studentId);
  }

  @FieldResolver(() => Course)
  course(@Root() enrollment: EnrollmentRow, @Ctx() ctx: GraphQLContext) {
    return this.coursesService.related(ctx, enrollment.courseId);
  }
}
