import { Args, Ctx, Directive, FieldResolver, Resolver, Root } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import type { UserRow } from '../../db/schema.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { User } from '../users/index.js';
import type { EnrollmentService } from './enrollment.service.js';
import { EnrollmentConnection } from './enrollment.type.js';

/** A student's enrollments: here, not in users/, because enrollments depend on users. */
@Resolver(() => User)
export class UserEnrollmentsResolver {
  constructor(private readonly enrollmentsService: EnrollmentService) {}

  @FieldResolver(() => EnrollmentConnection, {
    nullable: true,
    description: 'Only the user themself and admins may read it.',
    complexity: connectionComplexity,
  })
  @Directive(auth({ requires: ['ADMIN'], allow: ['SELF'] }))
  enrollments(@Root() user: UserRow, @Args(() => ForwardPageArgs) args: ForwardPageArgs, @Ctx() ctx: GraphQLContext) {
    return this.enrollmentsService.ofStudent(ctx, user.id, args);
  }
}
