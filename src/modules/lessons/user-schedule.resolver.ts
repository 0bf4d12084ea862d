import { Arg, Args, Ctx, Directive, FieldResolver, Resolver, Root } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import type { UserRow } from '../../db/schema.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import { User } from '../users/index.js';
import type { LessonService } from './lesson.service.js';
import { LessonConnection } from './lesson.type.js';

/** A user's schedule: here, not in users/, because lessons depend on users. */
@Resolver(() => User)
export class UserScheduleResolver {
  constructor(private readonly lessonsService: LessonService) {}

  @FieldResolver(() => LessonConnection, {
    nullable: true,
    description:
      'Lessons with a scheduledAt in [from, to) of the courses this user teaches or is actively enrolled in, ordered by scheduledAt then id; ' +
      'CANCELLED ones included. from defaults to now, to to 30 days later; a window longer than a year is BAD_USER_INPUT. ' +
      'Only the user themself may read it.',
    complexity: connectionComplexity,
  })
  @Directive(auth({ allow: ['SELF'] }))
  schedule(
    @Root() user: UserRow,
    @Args(() => ForwardPageArgs) args: ForwardPageArgs,
    @Arg('from', () => DateTime, { nullable: true }) from: Date | null,
    @Arg('to', () => DateTime, { nullable: true }) to: Date | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.lessonsService.scheduleOf(ctx, { userId: user.id, role: user.role }, { ...args, from, to });
  }
}
