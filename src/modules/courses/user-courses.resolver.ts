import { Args, Ctx, FieldResolver, Resolver, Root } from '../../graphql/type-graphql.js';
import type { GraphQLContext } from '../../context.js';
import type { UserRow } from '../../db/schema.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { User } from '../users/index.js';
import type { CourseService } from './course.service.js';
import { CourseConnection } from './course.type.js';

/** The courses a user teaches: here, not in users/, because courses depend on users. */
@Resolver(() => User)
export class UserCoursesResolver {
  constructor(private readonly coursesService: CourseService) {}

  @FieldResolver(() => CourseConnection, { complexity: connectionComplexity })
  coursesTaught(@Root() user: UserRow, @Args(() => ForwardPageArgs) args: ForwardPageArgs, @Ctx() ctx: GraphQLContext) {
    return this.coursesService.taughtBy(ctx, user.id, args);
  }
}
