import {
  Arg,
  Ctx,
  Directive,
  FieldResolver,
  ID,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import { cacheControl } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { Course } from '../courses/index.js';
import type { CourseStatsData } from './progress.repository.js';
import type { ProgressService } from './progress.service.js';
import { CoursePermissions, CourseStats } from './progress.type.js';

/** Course statistics and permissions: here, because they depend on enrollments and lessons. */
@Resolver(() => Course)
export class CourseProgressResolver {
  constructor(private readonly service: ProgressService) {}

  @FieldResolver(() => CoursePermissions, {
    description: 'What the viewer may do with this course, decided by the same rules that enforce it.',
    complexity: 3,
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  viewerCan(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.service.courseCan(ctx, course);
  }

  @FieldResolver(() => CourseStats, {
    nullable: true,
    description: "Only the course's instructor and admins may read it.",
    complexity: 10,
  })
  @Directive(auth({ requires: ['ADMIN'], allow: ['COURSE_INSTRUCTOR'] }))
  stats(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.service.statsOf(ctx, course.id);
  }
}

interface StatsArgs {
  courseId: string;
}

@Resolver(() => CourseStats)
export class CourseStatsSubscriptionResolver {
  @Subscription(() => CourseStats, {
    description:
      "The course's statistics, first as they are now, then again after every change to its enrollments, completion marks or lessons " +
      "(coalesced: at most about one message per second). The course's instructor and admins only; re-authorized for every message.",
    complexity: 10,
    subscribe: ({ args, context }: SubscribeResolverData<unknown, StatsArgs, GraphQLContext>) => {
      if (!context.live)
        throw new AppError(
          'BAD_USER_INPUT',
          'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql',
        );
      return context.live.courseStats.subscribe(context, args.courseId);
    },
  })
  @Directive(auth({}))
  courseStatsChanged(@Root() stats: CourseStatsData, @Arg('courseId', () => ID) _courseId: string): CourseStatsData {
    return stats;
  }
}
