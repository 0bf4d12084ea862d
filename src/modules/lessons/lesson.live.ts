import DataLoader from 'dataloader';
import { requireSignedIn, type SignedInViewer, type Viewer } from '../../auth/viewer.js';
import type { GraphQLContext } from '../../context.js';
import { createLoaders, createSharedLoaders, type SharedLoaders } from '../../loaders.js';
import type { Db } from '../../db/client.js';
import type { Role } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { acceptedItems, BoundedStream } from '../../pubsub/bounded-stream.js';
import type { Logger } from '../../logging/logger.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics, type UserFollowsEvent } from '../../pubsub/topics.js';
import { countLessonEventsAfter, lessonEventCursorState, lessonEventsAfter } from './lesson-event.repository.js';
import { courseAccessOfUsers, followedCourseIds } from './lesson.repository.js';
import { decodeEventCursor, eventOfRow, type LessonStatusChangedEvent } from './lesson.events.js';
import { MAX_REPLAY, ReplayThenLive } from './lesson.replay.js';

const expired = (message: string) =>
  new AppError('BAD_USER_INPUT', message, { reason: 'CURSOR_EXPIRED', fieldErrors: { after: 'has expired' } });
import { teachesCourse } from '../courses/index.js';

/** Who may follow a course, and why: the viewer facts an event's payload may depend on. */
interface Access {
  readonly role: Role;
  readonly relation: 'ADMIN' | 'TEACHES' | 'ENROLLED';
}

export interface LessonLiveOptions {
  /** Events one subscription may hold before its client counts as too slow. */
  readonly maxQueued: number;
  readonly log: Logger;
}

/**
 * `lessonStatusChanged`: who may subscribe, to which topics, and — for every event, at
 * delivery — whether the subscriber may still see it. Authorization at delivery reads
 * fresh data (role, ownership, active enrollment), batched into one query per event and
 * instance however many sockets receive it.
 */
export class LessonLive {
  private readonly access: DataLoader<string, Access | null>;
  private readonly shared = new Map<string, { loaders: SharedLoaders; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly options: LessonLiveOptions,
  ) {
    // No cache: every event is checked against the database as it is now.
    this.access = new DataLoader((keys) => this.loadAccess(keys), { cache: false, maxBatchSize: 1_000 });
  }

  /**
   * With `after` (a cursor), first replays every later event of the courses covered, then goes
   * on live: the live topics are joined before the log is read (see ReplayThenLive).
   */
  async subscribe(
    ctx: GraphQLContext,
    courseId: string | null,
    after: string | null = null,
  ): Promise<AsyncIterable<LessonStatusChangedEvent>> {
    const viewer = requireSignedIn(ctx.viewer);
    const afterSeq = after === null ? null : decodeEventCursor(after);
    const stream = new BoundedStream<LessonStatusChangedEvent>(this.options.maxQueued, () =>
      ctx.disconnect?.(1008, 'Slow consumer: too many undelivered events'),
    );
    const on = async (topic: string, handle: (payload: unknown) => void) =>
      stream.onEnd(await this.bus.subscribe(topic, handle));
    const listen = (topic: string) => on(topic, (payload) => stream.push(payload as LessonStatusChangedEvent));
    let source: Pick<BoundedStream<LessonStatusChangedEvent>, 'next' | 'end'> = stream;
    try {
      const covered = await this.listenFor(ctx, viewer, courseId, listen, on);
      if (afterSeq !== null) source = await this.replaying(stream, covered, afterSeq);
    } catch (err) {
      stream.end(); // unsubscribe whatever was already subscribed
      throw err;
    }
    // The loaders used to authorize the subscription would otherwise stay with the open
    // subscription (and their cached rows) until its first event: thousands stay open at once.
    ctx.loaders = createLoaders(this.db, viewer);
    return this.deliver(ctx, viewer, source);
  }

  /** Checks the cursor against the log, then wraps the live stream in a replay. */
  private async replaying(
    stream: BoundedStream<LessonStatusChangedEvent>,
    courseIds: string[] | null,
    afterSeq: number,
  ): Promise<ReplayThenLive> {
    const state = await lessonEventCursorState(this.db, afterSeq);
    if (state === 'EXPIRED')
      throw expired('The cursor is older than the retained event log; refetch and subscribe afresh');
    if (state === 'UNKNOWN') throw AppError.badInput({ after: 'is not a lessonStatusChanged cursor' });
    if ((await countLessonEventsAfter(this.db, courseIds, afterSeq, MAX_REPLAY + 1)) > MAX_REPLAY) {
      throw expired(`More than ${MAX_REPLAY} events to replay; refetch and subscribe afresh`);
    }
    return new ReplayThenLive(stream, afterSeq, async (seq, limit) =>
      (await lessonEventsAfter(this.db, courseIds, seq, limit)).map(eventOfRow),
    );
  }

  /**
   * Subscribes to the topics `courseId` (or null: every course the viewer follows) covers.
   * Returns the courses covered now (null: all of them, for admins).
   */
  private async listenFor(
    ctx: GraphQLContext,
    viewer: SignedInViewer,
    courseId: string | null,
    listen: (topic: string) => Promise<void>,
    on: (topic: string, handle: (payload: unknown) => void) => Promise<void>,
  ): Promise<string[] | null> {
    if (courseId !== null) {
      const uuid = uuidOf('Course', courseId);
      const course = uuid ? await ctx.loaders.courses.visibleById.load(uuid) : null;
      if (!course) throw AppError.notFound('Course');
      if (!(await this.access.load(`${course.id}|${viewer.userId}`))) {
        throw AppError.forbidden("Only the course's instructor, its enrolled students and admins may follow it");
      }
      await listen(Topics.lessonStatus(course.id));
      return [course.id];
    } else if (viewer.role === 'ADMIN') {
      await listen(Topics.lessonStatusAll);
      return null;
    } else {
      // Every course followed now, plus any the viewer starts following while subscribed.
      const following = new Set(await this.followedCourses(viewer.userId));
      for (const id of following) await listen(Topics.lessonStatus(id));
      await on(Topics.userFollows(viewer.userId), (payload) => {
        const { courseId: id } = payload as UserFollowsEvent;
        if (following.has(id)) return;
        following.add(id);
        listen(Topics.lessonStatus(id)).catch((err: unknown) => {
          following.delete(id);
          this.options.log.error({ err, courseId: id }, 'could not follow a newly joined course');
        });
      });
      return [...following];
    }
  }

  /** What graphql-ws consumes: each event, authorized at delivery, with fresh loaders. */
  private deliver(
    ctx: GraphQLContext,
    viewer: Viewer,
    stream: Pick<BoundedStream<LessonStatusChangedEvent>, 'next' | 'end'>,
  ): AsyncIterableIterator<LessonStatusChangedEvent> {
    return acceptedItems(stream, async (event) => {
      // Authorized now, against current data. Idle subscribers reach this in the same tick,
      // so the DataLoader batches them into one query per course.
      const role = await this.access.load(`${event.courseId}|${viewer.userId}`).catch((err: unknown) => {
        this.options.log.error({ err, eventId: event.eventId }, 'could not authorize a lesson event; not delivered');
        return null;
      });
      if (!role) return null;
      // Resolve this event with the viewer's current role and loaders made for it alone. The
      // audience (role, relation to the course) lets subscribers who would read the same
      // payload share one execution of it (ws/audience.ts).
      ctx.viewer = { ...viewer, role: role.role };
      ctx.audience = `${role.role}|${role.relation}`;
      ctx.loaders = createLoaders(this.db, ctx.viewer, this.sharedLoaders(event.eventId));
      return event;
    });
  }

  /** Viewer-independent loaders, one set per event on this instance. */
  private sharedLoaders(eventId: string): SharedLoaders {
    const now = Date.now();
    for (const [id, entry] of this.shared) if (now - entry.at > 5_000) this.shared.delete(id);
    let entry = this.shared.get(eventId);
    if (!entry) {
      entry = { loaders: createSharedLoaders(this.db), at: now };
      this.shared.set(eventId, entry);
    }
    return entry.loaders;
  }

  /** Courses a user teaches or is actively enrolled in. */
  private async followedCourses(userId: string): Promise<string[]> {
    return followedCourseIds(this.db, userId);
  }

  /**
   * keys: "courseId|userId" → the user's role if they may follow the course: admins, the
   * course's instructor, and its actively enrolled students. One statement per course.
   */
  private async loadAccess(keys: readonly string[]): Promise<Array<Access | null>> {
    const byCourse = new Map<string, Set<string>>();
    for (const key of keys) {
      const [courseId, userId] = key.split('|') as [string, string];
      (byCourse.get(courseId) ?? byCourse.set(courseId, new Set()).get(courseId)!).add(userId);
    }
    const result = new Map<string, Access | null>();
    await Promise.all(
      [...byCourse].map(async ([courseId, userIds]) => {
        const rows = await courseAccessOfUsers(this.db, courseId, [...userIds]);
        for (const r of rows) {
          // The same rule as the @auth relation and writes (course.policy.ts).
          const teaches = teachesCourse({ userId: r.userId, role: r.role, sessionId: null, tokenExpiresAt: null }, r);
          const allowed = r.role === 'ADMIN' || teaches || r.enrolled;
          const relation = r.role === 'ADMIN' ? 'ADMIN' : teaches ? 'TEACHES' : 'ENROLLED';
          result.set(`${courseId}|${r.userId}`, allowed ? { role: r.role, relation } : null);
        }
      }),
    );
    return keys.map((k) => result.get(k) ?? null);
  }
}
