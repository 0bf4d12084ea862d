import { Args, Ctx, Directive, FieldResolver, Int, Resolver, Root } from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow } from '../../db/schema.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { Course } from '../courses/index.js';
import type { EnrollmentService } from './enrollment.service.js';
import { Enrollment, EnrollmentConnection } from './enrollment.type.js';

/** A course's enrollments: here, not in courses/, because enrollments depend on courses. */
@Resolver(() => Course)
export class CourseEnrollmentsResolver {
  constructor(private readonly enrollmentsService: EnrollmentService) {}

  @FieldResolver(() => Int, { description: 'Active enrollments.' })
  enrollmentCount(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.enrollmentsService.activeCountOfCourse(ctx, course.id);
  }

  @FieldResolver(() => EnrollmentConnection, {
    nullable: true,
    description: "Only the course's instructor and admins may read it.",
    complexity: connectionComplexity,
  })
  @Directive(auth({ requires: ['ADMIN'], allow: ['COURSE_INSTRUCTOR'] }))
  enrollments(
    @Root() course: CourseRow,
    @Args(() => ForwardPageArgs) args: ForwardPageArgs,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.enrollmentsService.ofCourse(ctx, course.id, args);
  }

  @FieldResolver(() => Enrollment, {
    nullable: true,
    description: "The signed-in viewer's own enrollment in this course, if any.",
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  viewerEnrollment(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.enrollmentsService.viewerEnrollment(ctx, course.id);
  }
}
