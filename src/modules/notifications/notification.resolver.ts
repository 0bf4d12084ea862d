import { auth } from '../../auth/auth.directive.js';
import { cacheControl } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { NotificationRow, UserRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import {
  Arg,
  Args,
  Ctx,
  Directive,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from '../../graphql/type-graphql.js';
import { Course } from '../courses/index.js';
import { Lesson } from '../lessons/index.js';
import { User } from '../users/index.js';
import type { NotificationCommands } from './notification.commands.js';
import type { NotificationService } from './notification.service.js';
import { Notification, NotificationConnection } from './notification.type.js';

@Resolver(() => Notification)
export class NotificationResolver {
  constructor(private readonly commands: NotificationCommands) {}

  @FieldResolver(() => ID)
  id(@Root() n: NotificationRow) {
    return toGlobalId('Notification', n.id);
  }

  @FieldResolver(() => Course, { nullable: true, description: 'Null when the course is gone or no longer visible.' })
  course(@Root() n: NotificationRow, @Ctx() ctx: GraphQLContext) {
    return n.courseId ? ctx.loaders.courses.visibleById.load(n.courseId) : null;
  }

  @FieldResolver(() => Lesson, { nullable: true, description: 'Null when the lesson is gone or no longer visible.' })
  lesson(@Root() n: NotificationRow, @Ctx() ctx: GraphQLContext) {
    return n.lessonId ? ctx.loaders.lessons.visibleById.load(n.lessonId) : null;
  }

  @Mutation(() => Int, { description: "Marks the viewer's own notifications read; returns how many changed." })
  @Directive(auth({}))
  markNotificationsRead(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: GraphQLContext) {
    return this.commands.markRead(ctx, ids);
  }

  @Subscription(() => Notification, {
    description: "The viewer's own new notifications.",
    subscribe: ({ context }: SubscribeResolverData<unknown, unknown, GraphQLContext>) => {
      if (!context.live)
        throw new AppError(
          'BAD_USER_INPUT',
          'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql',
        );
      return context.live.notifications.subscribe(context);
    },
  })
  @Directive(auth({}))
  notificationAdded(@Root() n: NotificationRow): NotificationRow {
    return n;
  }
}

/** The notification fields of `User`: readable by that user alone (not even admins). */
@Resolver(() => User)
export class UserNotificationsResolver {
  constructor(private readonly service: NotificationService) {}

  @FieldResolver(() => NotificationConnection, {
    nullable: true,
    description: 'Only the user themself may read it. Newest first.',
    complexity: connectionComplexity,
  })
  @Directive(auth({ allow: ['SELF'] }))
  @Directive(cacheControl({ maxAge: 0 }))
  notifications(
    @Root() user: UserRow,
    @Args(() => ForwardPageArgs) args: ForwardPageArgs,
    @Arg('unreadOnly', () => Boolean, { nullable: true }) unreadOnly: boolean | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.service.list(ctx, user.id, args, unreadOnly ?? false);
  }

  @FieldResolver(() => Int, { nullable: true, description: 'Only the user themself may read it.' })
  @Directive(auth({ allow: ['SELF'] }))
  @Directive(cacheControl({ maxAge: 0 }))
  unreadNotificationCount(@Root() user: UserRow, @Ctx() ctx: GraphQLContext) {
    return this.service.unreadCount(ctx, user.id);
  }
}
