import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import { cacheControl } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow, EntitlementRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { Course, type CourseService } from '../courses/index.js';
import { User, type UserService } from '../users/index.js';
import type { CheckoutService } from './checkout.service.js';
import type { EntitlementCommands } from './entitlement.commands.js';
import type { EntitlementService } from './entitlement.service.js';
import { Checkout, Entitlement } from './entitlement.type.js';

@Resolver(() => Entitlement)
export class EntitlementResolver {
  constructor(
    private readonly commands: EntitlementCommands,
    private readonly checkout: CheckoutService,
    private readonly coursesService: CourseService,
    private readonly usersService: UserService,
  ) {}

  @Mutation(() => Checkout, {
    description:
      'Students, for a PUBLISHED paid course they have no entitlement to: a payment page from the payment provider. PAYMENT_UNAVAILABLE when none is configured; CONFLICT when already entitled.',
  })
  @Directive(auth({ requires: ['STUDENT'] }))
  startCheckout(@Arg('courseId', () => ID) courseId: string, @Ctx() ctx: GraphQLContext) {
    return this.checkout.start(ctx, courseId);
  }

  @Mutation(() => Entitlement, {
    description: "The course's instructor and admins: lets a student enroll in a paid course without paying.",
  })
  @Directive(auth({ requires: ['INSTRUCTOR', 'ADMIN'] }))
  grantCourseAccess(
    @Arg('courseId', () => ID) courseId: string,
    @Arg('studentId', () => ID) studentId: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.commands.grant(ctx, courseId, studentId);
  }

  @Mutation(() => Entitlement, {
    description:
      "The course's instructor and admins: ends the entitlement and cancels the student's active enrollment.",
  })
  @Directive(auth({ requires: ['INSTRUCTOR', 'ADMIN'] }))
  revokeCourseAccess(
    @Arg('courseId', () => ID) courseId: string,
    @Arg('studentId', () => ID) studentId: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.commands.revoke(ctx, courseId, studentId);
  }

  @FieldResolver(() => ID)
  id(@Root() e: EntitlementRow) {
    return toGlobalId('Entitlement', e.id);
  }

  @FieldResolver(() => Course)
  course(@Root() e: EntitlementRow, @Ctx() ctx: GraphQLContext) {
    return this.coursesService.related(ctx, e.courseId);
  }

  @FieldResolver(() => User)
  student(@Root() e: EntitlementRow, @Ctx() ctx: GraphQLContext) {
    return this.usersService.related(ctx, e.studentId);
  }
}

/** A course's entitlement for the viewer: here, because entitlements depend on courses. */
@Resolver(() => Course)
export class CourseEntitlementResolver {
  constructor(private readonly service: EntitlementService) {}

  @FieldResolver(() => Entitlement, {
    nullable: true,
    description: "The viewer's active entitlement to this course, if any.",
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  viewerEntitlement(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.service.viewerEntitlement(ctx, course.id);
  }
}
