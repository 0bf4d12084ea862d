import DataLoader from 'dataloader';
import { requireSignedIn, type Viewer } from '../../auth/viewer.js';
import type { GraphQLContext } from '../../context.js';
import type { Db } from '../../db/client.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { createLoaders } from '../../loaders.js';
import type { Logger } from '../../logging/logger.js';
import { acceptedItems, BoundedStream } from '../../pubsub/bounded-stream.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics } from '../../pubsub/topics.js';
import { canReadCourseRoster } from '../courses/index.js';
import { rosterReadersOf, statsOfCourses, type CourseStatsData } from './progress.repository.js';

export interface CourseStatsLiveOptions {
  readonly maxQueued: number;
  readonly log: Logger;
  /** At most one recomputation per course per this interval on an instance (1 s). */
  readonly minIntervalMs?: number;
}

interface Feed {
  readonly streams: Set<BoundedStream<CourseStatsData>>;
  unsubscribe?: () => void;
  timer?: NodeJS.Timeout;
  lastSentAt: number;
}

/**
 * `courseStatsChanged`: one feed per course per instance, however many dashboards watch it.
 * Any instance announces activity on the course's topic (enrollments, marks, lessons); the
 * feed recomputes the statistics at most once per interval (one aggregate statement) and hands
 * them to its subscribers, each re-authorized at delivery against current data.
 */
export class CourseStatsLive {
  private readonly feeds = new Map<string, Feed>();
  private readonly access: DataLoader<string, boolean>;
  private readonly minIntervalMs: number;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly options: CourseStatsLiveOptions,
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 1_000;
    // No cache: every message is checked against the database as it is now.
    this.access = new DataLoader((keys) => this.loadAccess(keys), { cache: false, maxBatchSize: 1_000 });
  }

  async subscribe(ctx: GraphQLContext, courseId: string): Promise<AsyncIterable<CourseStatsData>> {
    const viewer = requireSignedIn(ctx.viewer);
    const uuid = uuidOf('Course', courseId);
    const course = uuid ? await ctx.loaders.courses.visibleById.load(uuid) : null;
    if (!course) throw AppError.notFound('Course');
    if (!(await this.access.load(`${course.id}|${viewer.userId}`))) {
      throw AppError.forbidden("Only the course's instructor and admins may follow its statistics");
    }
    const stream = new BoundedStream<CourseStatsData>(this.options.maxQueued, () =>
      ctx.disconnect?.(1008, 'Slow consumer: too many undelivered events'),
    );
    const feed = await this.join(course.id, stream);
    stream.onEnd(() => this.leave(course.id, feed, stream));
    // First the statistics as they are now.
    const [now] = (await statsOfCourses(this.db, [course.id])).values();
    if (now) stream.push(now);
    return this.deliver(ctx, viewer, course.id, stream);
  }

  private deliver(
    ctx: GraphQLContext,
    viewer: Viewer,
    courseId: string,
    stream: BoundedStream<CourseStatsData>,
  ): AsyncIterableIterator<CourseStatsData> {
    return acceptedItems(stream, async (stats) => {
      const allowed = await this.access.load(`${courseId}|${viewer.userId}`).catch((err: unknown) => {
        this.options.log.error({ err, courseId }, 'could not authorize course statistics; not delivered');
        return false;
      });
      if (!allowed) {
        stream.end(); // no longer the course's instructor or an admin: the subscription ends
        return null;
      }
      // Fresh loaders per message: fields resolved through them (the quiz statistics) would
      // otherwise answer from the socket's first message for as long as it lives.
      ctx.loaders = createLoaders(this.db, ctx.viewer);
      return stats;
    });
  }

  private async join(courseId: string, stream: BoundedStream<CourseStatsData>): Promise<Feed> {
    let feed = this.feeds.get(courseId);
    if (!feed) {
      const created: Feed = { streams: new Set(), lastSentAt: 0 };
      this.feeds.set(courseId, created);
      feed = created;
      try {
        created.unsubscribe = await this.bus.subscribe(Topics.courseActivity(courseId), () =>
          this.schedule(courseId, created),
        );
      } catch (err) {
        this.feeds.delete(courseId);
        throw err;
      }
    }
    feed.streams.add(stream);
    return feed;
  }

  private leave(courseId: string, feed: Feed, stream: BoundedStream<CourseStatsData>): void {
    feed.streams.delete(stream);
    if (feed.streams.size > 0 || this.feeds.get(courseId) !== feed) return;
    this.feeds.delete(courseId);
    clearTimeout(feed.timer);
    feed.unsubscribe?.();
  }

  /** Coalesces a burst of activity into one recomputation per interval. */
  private schedule(courseId: string, feed: Feed): void {
    if (feed.timer) return;
    const wait = Math.max(0, feed.lastSentAt + this.minIntervalMs - Date.now());
    feed.timer = setTimeout(() => {
      feed.lastSentAt = Date.now();
      this.flush(courseId, feed)
        .catch((err: unknown) => this.options.log.error({ err, courseId }, 'could not compute course statistics'))
        .finally(() => (feed.timer = undefined));
    }, wait);
    feed.timer.unref?.();
  }

  private async flush(courseId: string, feed: Feed): Promise<void> {
    if (feed.streams.size === 0) return;
    const stats = (await statsOfCourses(this.db, [courseId])).get(courseId);
    if (stats) for (const stream of feed.streams) stream.push(stats);
  }

  /** keys "courseId|userId" → may read the course's statistics now (one statement per batch). */
  private async loadAccess(keys: readonly string[]): Promise<boolean[]> {
    const pairs = keys.map((k) => {
      const [courseId, userId] = k.split('|') as [string, string];
      return { courseId, userId };
    });
    const found = await rosterReadersOf(this.db, pairs);
    return keys.map((k) => {
      const r = found.get(k);
      return (
        r !== undefined &&
        canReadCourseRoster({ userId: r.userId, role: r.role, sessionId: null, tokenExpiresAt: null }, r)
      );
    });
  }
}
