import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import { AppError } from '../../errors/app-error.js';
import { DateTime } from '../../graphql/scalars.js';
import {
  Arg,
  Ctx,
  Directive,
  Field,
  FieldResolver,
  ID,
  ObjectType,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from '../../graphql/type-graphql.js';
import { User } from '../users/index.js';
import type { LessonStatus as LessonStatusValue } from './lesson.table.js';
import type { LessonStatusChangedEvent } from './lesson.events.js';
import { Lesson, LessonStatus } from './lesson.type.js';

@ObjectType('LessonStatusChange', { description: 'A lesson was created, changed status or was rescheduled.' })
class LessonStatusChange {
  @Field(() => LessonStatus, { nullable: true, description: 'Null when the lesson was just created.' })
  previousStatus!: LessonStatusValue | null;

  @Field(() => LessonStatus)
  status!: LessonStatusValue;
}

interface SubscribeArgs {
  courseId?: string | null;
  after?: string | null;
}

@Resolver(() => LessonStatusChange)
export class LessonStatusChangeResolver {
  @Subscription(() => LessonStatusChange, {
    description:
      'Signed-in viewers only: status changes (and creations) of lessons in courses the viewer teaches or is actively enrolled in; ' +
      'admins see every course. courseId null means all such courses. Every event is re-authorized at delivery.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, SubscribeArgs, GraphQLContext>) => {
      if (!context.live)
        throw new AppError(
          'BAD_USER_INPUT',
          'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql',
        );
      return context.live.lessons.subscribe(context, args.courseId ?? null, args.after ?? null);
    },
  })
  @Directive(auth({}))
  lessonStatusChanged(
    @Root() event: LessonStatusChangedEvent,
    @Arg('courseId', () => ID, { nullable: true, description: 'One course; null for all the viewer may follow.' })
    _courseId: string | null,
    @Arg('after', () => String, {
      nullable: true,
      description:
        'A LessonStatusChange.cursor: first replays, in order, every later change the viewer may see now, then goes on live. ' +
        'An expired cursor is BAD_USER_INPUT with extensions.reason CURSOR_EXPIRED.',
    })
    _after: string | null,
  ): LessonStatusChangedEvent {
    return event;
  }

  /** Resolved per event with loaders made for that event, so nested fields are current. */
  @FieldResolver(() => Lesson)
  async lesson(@Root() event: LessonStatusChangedEvent, @Ctx() ctx: GraphQLContext) {
    const lesson = await ctx.loaders.lessons.byId.load(event.lessonId);
    if (!lesson) throw AppError.notFound('Lesson');
    return lesson;
  }

  @FieldResolver(() => String, {
    description: 'Pass it as `after` when resubscribing to receive every later change exactly once.',
  })
  cursor(@Root() event: LessonStatusChangedEvent): string {
    return event.cursor;
  }

  @FieldResolver(() => DateTime)
  changedAt(@Root() event: LessonStatusChangedEvent): Date {
    return new Date(event.changedAt);
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who made the change.' })
  changedBy(@Root() event: LessonStatusChangedEvent, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.users.byId.load(event.changedById);
  }
}
