import DataLoader from 'dataloader';
import { requireSignedIn, type SignedInViewer, type Viewer } from '../../auth/viewer.js';
import type { GraphQLContext } from '../../context.js';
import { createLoaders, createSharedLoaders, type SharedLoaders } from '../../loaders.js';
import type { Db } from '../../db/client.js';
import type { CourseStatus, Role } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { acceptedItems, BoundedStream } from '../../pubsub/bounded-stream.js';
import type { Logger } from '../../logging/logger.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { batchWhileBusy, SUBSCRIBE_BATCHING } from '../../util/batch-while-busy.js';
import type { LiveSink } from '../../pubsub/live-sink.js';
import { Topics, type UserFollowsEvent } from '../../pubsub/topics.js';
import {
  countLessonEventsAfter,
  lastLessonEventSeqs,
  lessonEventCursorState,
  lessonEventsAfter,
} from './lesson-event.repository.js';
import { courseAccessExceptions, courseAccessOfPairs, followedCourseIdsOf } from './lesson.repository.js';
import { decodeEventCursor, eventOfRow, type LessonStatusChangedEvent } from './lesson.events.js';
import { MAX_REPLAY, ReplayThenLive } from './lesson.replay.js';
import { TopicDeliveries } from './lesson.topic-deliveries.js';

const expired = (message: string) =>
  new AppError('BAD_USER_INPUT', message, { reason: 'CURSOR_EXPIRED', fieldErrors: { after: 'has expired' } });
import { teachesCourse } from '../courses/index.js';

/** Who may follow a course, and why: the viewer facts an event's payload may depend on. */
interface Access {
  readonly role: Role;
  readonly relation: 'ADMIN' | 'TEACHES' | 'ENROLLED';
}

/** A user's standing towards one course, as read in bulk (one statement for many users). */
interface Standing {
  /** Null: may not follow it. */
  readonly access: Access | null;
  /** The course's status and instructor, and whether the user is actively enrolled in it. */
  readonly course: { readonly status: CourseStatus; readonly instructorId: string };
  readonly enrolled: boolean;
}

/** A subscription served through the WebSocket layer's sink (see `LiveSink`). */
interface Member {
  readonly viewer: SignedInViewer;
  /** "userId|role": the subscriber as its token names it. */
  readonly key: string;
  readonly sink: LiveSink;
  ended: boolean;
}

/** One topic this instance listens to for its direct subscribers: one bus subscription each. */
interface TopicEntry {
  readonly members: Set<Member>;
  /** Settles once the bus subscription is active (and the topic's log position read). */
  ready: Promise<void>;
  stop?: () => void;
  /** What it delivered: a pub/sub loss is healed from the log (lesson.topic-deliveries.ts). */
  readonly deliveries: TopicDeliveries;
  /** Subscribed and its log position read: the probe may compare it with the log. */
  started?: boolean;
  /** The last logged event the previous probe found undelivered (see `LessonLive.probe`). */
  suspect?: number;
}

export interface LessonLiveOptions {
  /** Events one subscription may hold before its client counts as too slow. */
  readonly maxQueued: number;
  readonly log: Logger;
  /** LIVE_HEAL_PROBE_MS: how often topics are compared with the log (0 or absent: never). */
  readonly healProbeMs?: number;
}

/**
 * `lessonStatusChanged`: who may subscribe, to which topics, and — for every event, at
 * delivery — whether the subscriber may still see it. Authorization at delivery reads
 * fresh data (role, ownership, active enrollment), batched into one query per event and
 * instance however many sockets receive it.
 */
export class LessonLive {
  private readonly access: DataLoader<string, Access | null>;
  /** Subscribe-time checks of many sockets in one statement: "courseId|userId" → standing. */
  private readonly standing: (key: string) => Promise<Standing | null>;
  /**
   * Subscribe-time reads of the courses a user teaches or is actively enrolled in (`courseId:
   * null`), many users per statement.
   */
  private readonly followed: (userId: string) => Promise<string[]>;
  private readonly shared = new Map<string, { loaders: SharedLoaders; at: number }>();
  /** Direct subscribers by topic (one bus subscription per topic on this instance). */
  private readonly topics = new Map<string, TopicEntry>();
  /** "User follows a course" listeners on this instance, by user: one bus subscription for all of them. */
  private readonly followListeners = new Map<string, Set<(courseId: string) => void>>();
  private followsReady: Promise<void> | undefined;
  /** Events are fanned out one at a time, in arrival order: each subscriber gets them in order. */
  private fanning: Promise<void> = Promise.resolve();
  private probing = false;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly options: LessonLiveOptions,
  ) {
    // No cache: every event is checked against the database as it is now.
    this.access = new DataLoader(async (keys) => (await this.loadStanding(keys)).map((s) => s?.access ?? null), {
      cache: false,
      maxBatchSize: 1_000,
    });
    bus.watchDelivery?.({
      dropped: () => {
        for (const entry of this.topics.values()) entry.deliveries.gapped = true;
      },
      restored: () => {
        for (const entry of this.topics.values()) this.inOrder(() => this.heal(entry));
      },
    });
    if (options.healProbeMs) setInterval(() => void this.probe(), options.healProbeMs).unref();
    // Sockets subscribe one per I/O event, each in its own tick: their checks share one
    // statement (a tick's worth would mostly be one; see SUBSCRIBE_BATCHING).
    this.standing = batchWhileBusy((keys: readonly string[]) => this.loadStanding(keys), SUBSCRIBE_BATCHING);
    this.followed = batchWhileBusy(async (userIds: readonly string[]) => {
      const byUser = await followedCourseIdsOf(this.db, userIds);
      return userIds.map((id) => byUser.get(id) ?? []);
    }, SUBSCRIBE_BATCHING);
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
    // Live only (a replay is per subscriber): served through the socket's sink, authorized
    // and executed for all subscribers of an event at once.
    if (ctx.sink && afterSeq === null) return this.subscribeDirect(ctx, viewer, courseId, ctx.sink);
    const stream = new BoundedStream<LessonStatusChangedEvent>(this.options.maxQueued, () =>
      ctx.disconnect?.(1008, 'Slow consumer: too many undelivered events'),
    );
    const on = async (start: () => Promise<() => void>) => stream.onEnd(await start());
    const listen = (topic: string) =>
      on(() => this.bus.subscribe(topic, (payload) => stream.push(payload as LessonStatusChangedEvent)));
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

  /** A subscription fanned out by this instance's topic listeners (`fanOut`), written through `sink`. */
  private async subscribeDirect(
    ctx: GraphQLContext,
    viewer: SignedInViewer,
    courseId: string | null,
    sink: LiveSink,
  ): Promise<AsyncIterable<never>> {
    const member: Member = { viewer, key: `${viewer.userId}|${viewer.role}`, sink, ended: false };
    const cleanups: Array<() => void> = [];
    const end = () => {
      if (member.ended) return;
      member.ended = true;
      for (const c of cleanups.splice(0)) c();
    };
    const listen = async (topic: string) => {
      cleanups.push(() => this.leave(topic, member));
      await this.join(topic, member);
    };
    const on = async (start: () => Promise<() => void>) => {
      const stop = await start();
      if (member.ended) stop();
      else cleanups.push(stop);
    };
    try {
      await this.listenFor(ctx, viewer, courseId, listen, on);
    } catch (err) {
      end();
      throw err;
    }
    // Nothing per socket beyond the member: no queue, and no loaders (the checks above read
    // through this service's own batched loader; each event gets loaders of its own).
    return sink.open(end);
  }

  /**
   * Calls `handle` with each course `userId` starts following from now on; resolves with the
   * function that stops it. The first call subscribes this instance to the one topic of such
   * events (kept for the instance's life: enrollments are rare next to lesson events).
   */
  private async onFollow(userId: string, handle: (courseId: string) => void): Promise<() => void> {
    let handlers = this.followListeners.get(userId);
    if (!handlers) this.followListeners.set(userId, (handlers = new Set()));
    handlers.add(handle);
    const stop = () => {
      handlers.delete(handle);
      if (handlers.size === 0 && this.followListeners.get(userId) === handlers) this.followListeners.delete(userId);
    };
    this.followsReady ??= this.bus
      .subscribe(Topics.userFollows, (payload) => {
        const { userId: who, courseId } = payload as UserFollowsEvent;
        for (const h of this.followListeners.get(who) ?? []) h(courseId);
      })
      .then(
        () => undefined,
        (err: unknown) => {
          this.followsReady = undefined; // the next subscriber tries again
          throw err;
        },
      );
    try {
      await this.followsReady;
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  /** Adds a direct subscriber to a topic; the first one subscribes this instance to it. */
  private async join(topic: string, member: Member): Promise<void> {
    let entry = this.topics.get(topic);
    if (!entry) {
      const created: TopicEntry = {
        members: new Set(),
        ready: Promise.resolve(),
        deliveries: new TopicDeliveries(topic),
      };
      created.ready = this.bus
        .subscribe(topic, (payload) => this.arrived(created, payload as LessonStatusChangedEvent))
        .then(async (stop) => {
          if (this.topics.get(topic) !== created) return stop(); // every member left while it was being subscribed
          created.stop = stop;
          // After the subscription is active: every later event of the log must arrive.
          await created.deliveries.start(this.db);
          created.started = true;
        })
        .then(
          () => undefined,
          (err: unknown) => {
            if (this.topics.get(topic) === created) {
              this.topics.delete(topic);
              created.stop?.();
            }
            throw err;
          },
        );
      this.topics.set(topic, (entry = created));
    }
    entry.members.add(member);
    await entry.ready;
  }

  private leave(topic: string, member: Member): void {
    const entry = this.topics.get(topic);
    if (!entry?.members.delete(member) || entry.members.size > 0) return;
    this.topics.delete(topic);
    entry.stop?.();
  }

  /**
   * An event on a topic: its members as of now, fanned out after the events before it. One
   * whose course's previous event never arrived is held back: the log gives both, in order.
   */
  private arrived(entry: TopicEntry, event: LessonStatusChangedEvent): void {
    if (entry.members.size === 0) return;
    const members = [...entry.members];
    const { deliveries } = entry;
    this.inOrder(async () => {
      if (!(await subscribed(entry))) return;
      if (deliveries.gapped) return this.heal(entry); // the log has this one too, after those missed
      const arrival = deliveries.arrival(event);
      if (arrival === 'STALE') return; // delivered already (healed from the log), or older than the topic
      if (arrival === 'GAP') return this.heal(entry, event.courseId);
      deliveries.delivered(event);
      return this.fanOut(event, members);
    }, event.eventId);
  }

  /**
   * A loss nothing else shows: a topic's subscription silently dead (after a SIGKILL of a
   * cluster master, ioredis' sharded subscribers were seen never to subscribe some channels
   * again: bench:scale), or a course's last event lost with no later one to reveal it by its
   * chain. Every `healProbeMs` the log's last event of each topic is compared with what the
   * topic delivered; one still undelivered at the next comparison (an interval old at least:
   * not merely in flight) is replayed from the log, in order with live events, and the topic is
   * subscribed again on the bus. One statement per probe for all topics of this instance.
   */
  private async probe(): Promise<void> {
    if (this.probing || this.topics.size === 0) return;
    this.probing = true;
    try {
      const entries = [...this.topics].filter(([, e]) => e.started && e.members.size > 0);
      const courseIds = new Set<string>();
      for (const [, e] of entries) if (e.deliveries.courseId !== null) courseIds.add(e.deliveries.courseId);
      const logged = await lastLessonEventSeqs(this.db, [...courseIds]);
      for (const [topic, entry] of entries) {
        const { deliveries } = entry;
        const suspect = entry.suspect;
        entry.suspect = deliveries.undelivered(logged) || undefined;
        if (suspect === undefined || deliveries.reached(suspect)) continue;
        this.options.log.warn(
          { topic, seq: suspect, reason: 'NOT_DELIVERED' },
          'a logged live event never came through pub/sub: replaying from the log, subscribing again',
        );
        this.bus.resubscribe?.(topic);
        if (deliveries.courseId === null) deliveries.gapped = true;
        this.inOrder(() => this.heal(entry, deliveries.courseId ?? undefined));
      }
    } catch (err) {
      this.options.log.warn({ err }, 'could not compare live topics with the lesson event log');
    } finally {
      this.probing = false;
    }
  }

  /** Fan-outs and heals run one at a time, in the order they were asked for. */
  private inOrder(step: () => Promise<void> | undefined, eventId?: string): void {
    this.fanning = this.fanning
      .then(step)
      .catch((err: unknown) =>
        this.options.log.error({ err, eventId }, 'could not fan out a lesson event; not delivered'),
      );
  }

  /**
   * After a pub/sub loss: the events missed, from the log, in order, each authorized like a
   * live one — of one course (`courseId`: an event arrived whose predecessor did not), or of
   * the whole topic (its connection dropped). A log that cannot be read leaves the loss
   * unhealed: the next event (or reconnection) shows it again and tries again.
   */
  private async heal(entry: TopicEntry, courseId?: string): Promise<void> {
    const { deliveries } = entry;
    if (!(await subscribed(entry))) return;
    if ((courseId === undefined && !deliveries.gapped) || entry.members.size === 0) return;
    const missed = await deliveries.missed(this.db, courseId);
    if (courseId === undefined) deliveries.gapped = false;
    this.options.log.info(
      { events: missed.length, courseId, reason: courseId ? 'SEQUENCE_GAP' : 'CONNECTION_DROPPED' },
      'live events missed by pub/sub replayed from the log',
    );
    for (const event of missed) {
      deliveries.delivered(event);
      await this.fanOut(event, [...entry.members]);
    }
  }

  /**
   * One event to many subscribers: authorized for all of them in one statement (who may still
   * follow the course, with which role and relation), then handed to each one's sink, which
   * executes it once per audience.
   */
  private async fanOut(event: LessonStatusChangedEvent, members: Member[]): Promise<void> {
    // Each subscriber as its token names it (user and role), once.
    const access = new Map<string, Access | null>();
    const subscribers: Array<{ userId: string; role: Role }> = [];
    for (const m of members) {
      if (m.ended || access.has(m.key)) continue;
      access.set(m.key, null);
      subscribers.push({ userId: m.viewer.userId, role: m.viewer.role });
    }
    if (subscribers.length === 0) return;
    const { instructorId, exceptions } = await courseAccessExceptions(this.db, event.courseId, subscribers);
    if (instructorId === null) return; // the course is gone
    // Everyone not returned may follow it with the role their token names; the exceptions
    // are decided from their current row.
    for (const { userId, role } of subscribers) {
      const relation =
        role === 'ADMIN' ? 'ADMIN' : role === 'INSTRUCTOR' && instructorId === userId ? 'TEACHES' : 'ENROLLED';
      access.set(`${userId}|${role}`, { role, relation });
    }
    for (const r of exceptions)
      access.set(`${r.userId}|${r.tokenRole}`, r.role === null ? null : accessOfRow({ ...r, role: r.role }));
    const shared = this.sharedLoaders(event.eventId);
    const writes = new Set<Promise<void>>();
    for (const m of members) {
      const allowed = m.ended ? undefined : access.get(m.key);
      if (!allowed) continue;
      // Resolved with the viewer's current role and loaders made for this event (shared
      // row-by-id loaders), once per audience.
      const written = m.sink.deliver(event, `${allowed.role}|${allowed.relation}`, () => {
        const viewer = { ...m.viewer, role: allowed.role };
        return { viewer, loaders: createLoaders(this.db, viewer, shared) };
      });
      if (written) writes.add(written);
    }
    await Promise.all(writes);
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
    /** Registers a listener (what `start` resolves with stops it) for as long as the subscription lasts. */
    on: (start: () => Promise<() => void>) => Promise<void>,
  ): Promise<string[] | null> {
    if (courseId !== null) {
      const uuid = uuidOf('Course', courseId);
      // One statement for all the sockets subscribing in this tick (not one per socket).
      const standing = uuid ? await this.standing(`${uuid}|${viewer.userId}`) : null;
      if (!standing || !canSeeCourse(viewer, standing)) throw AppError.notFound('Course');
      if (!standing.access) {
        throw AppError.forbidden("Only the course's instructor, its enrolled students and admins may follow it");
      }
      await listen(Topics.lessonStatus(uuid!));
      return [uuid!];
    } else if (viewer.role === 'ADMIN') {
      await listen(Topics.lessonStatusAll);
      return null;
    } else {
      // Every course followed now, plus any the viewer starts following while subscribed.
      const following = new Set(await this.followed(viewer.userId));
      for (const id of following) await listen(Topics.lessonStatus(id));
      await on(() =>
        this.onFollow(viewer.userId, (id) => {
          if (following.has(id)) return;
          following.add(id);
          listen(Topics.lessonStatus(id)).catch((err: unknown) => {
            following.delete(id);
            this.options.log.error({ err, courseId: id }, 'could not follow a newly joined course');
          });
        }),
      );
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

  /**
   * keys: "courseId|userId" → the user's standing towards the course (null: no such course
   * or user), with their role if they may follow it: admins, the course's instructor, and its
   * actively enrolled students. One statement for all of them.
   */
  private async loadStanding(keys: readonly string[]): Promise<Array<Standing | null>> {
    const pairs = [...new Set(keys)].map((key) => {
      const [courseId, userId] = key.split('|') as [string, string];
      return { courseId, userId };
    });
    const result = new Map<string, Standing>();
    for (const r of await courseAccessOfPairs(this.db, pairs)) {
      result.set(`${r.courseId}|${r.userId}`, {
        access: accessOfRow(r),
        course: { status: r.courseStatus, instructorId: r.instructorId },
        enrolled: r.enrolled,
      });
    }
    return keys.map((k) => result.get(k) ?? null);
  }
}

/** Whether the topic got subscribed (and its log position read): what its deliveries start from. */
function subscribed(entry: TopicEntry): Promise<boolean> {
  return entry.ready.then(
    () => true,
    () => false,
  );
}

/** Whether a user may follow a course, with which role and relation (null: may not). */
function accessOfRow(r: { userId: string; role: Role; instructorId: string; enrolled: boolean }): Access | null {
  // The same rule as the @auth relation and writes (course.policy.ts).
  const teaches = teachesCourse({ userId: r.userId, role: r.role, sessionId: null, tokenExpiresAt: null }, r);
  if (r.role !== 'ADMIN' && !teaches && !r.enrolled) return null;
  return { role: r.role, relation: r.role === 'ADMIN' ? 'ADMIN' : teaches ? 'TEACHES' : 'ENROLLED' };
}

/**
 * Whether the viewer (as their token says) can see the course at all: the rule of
 * `courseVisibility` (course.repository.ts), applied to a row already read, so that one
 * statement checks many subscribing sockets. Hidden courses answer NOT_FOUND, as entry points do.
 */
function canSeeCourse(viewer: SignedInViewer, standing: Standing): boolean {
  const { course } = standing;
  return (
    viewer.role === 'ADMIN' ||
    course.status === 'PUBLISHED' ||
    (viewer.role === 'INSTRUCTOR' && course.instructorId === viewer.userId) ||
    (course.status === 'ARCHIVED' && standing.enrolled)
  );
}
