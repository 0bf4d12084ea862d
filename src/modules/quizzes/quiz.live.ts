import { requireSignedIn } from '../../auth/viewer.js';
import type { GraphQLContext } from '../../context.js';
import type { Db } from '../../db/client.js';
import type { AttemptRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { createLoaders } from '../../loaders.js';
import type { Logger } from '../../logging/logger.js';
import { acceptedItems, BoundedStream } from '../../pubsub/bounded-stream.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics, type QuizAttemptGradedEvent } from '../../pubsub/topics.js';
import { canReadCourseRoster } from '../courses/index.js';
import { findAttemptsByIds, roleAndInstructor } from './quiz.repository.js';

/**
 * `quizAttemptGraded(courseId)`: the course's instructor and admins. Every event is
 * re-authorized against the database as it is now (a demoted instructor hears nothing more,
 * and the subscription ends), and the attempt is re-read, with fresh loaders for its fields.
 */
export class QuizGradedLive {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly options: { readonly maxQueued: number; readonly log: Logger },
  ) {}

  async subscribe(ctx: GraphQLContext, courseId: string): Promise<AsyncIterableIterator<AttemptRow>> {
    const viewer = requireSignedIn(ctx.viewer);
    const uuid = uuidOf('Course', courseId);
    const course = uuid ? await ctx.loaders.courses.visibleById.load(uuid) : null;
    if (!course) throw AppError.notFound('Course');
    if (!(await this.mayFollow(course.id, viewer.userId)))
      throw AppError.forbidden("Only the course's instructor and admins may follow its graded attempts");
    const stream = new BoundedStream<QuizAttemptGradedEvent>(this.options.maxQueued, () =>
      ctx.disconnect?.(1008, 'Slow consumer: too many undelivered events'),
    );
    stream.onEnd(
      await this.bus.subscribe(Topics.quizAttemptGraded(course.id), (p) => stream.push(p as QuizAttemptGradedEvent)),
    );
    return acceptedItems(stream, async ({ attemptId }) => {
      try {
        if (!(await this.mayFollow(course.id, viewer.userId))) {
          stream.end();
          return null;
        }
        const [row] = await findAttemptsByIds(this.db, [attemptId]);
        if (!row || row.courseId !== course.id || row.status === 'IN_PROGRESS') return null;
        ctx.loaders = createLoaders(this.db, ctx.viewer);
        return row;
      } catch (err) {
        this.options.log.error({ err, attemptId }, 'could not authorize a graded attempt; not delivered');
        return null;
      }
    });
  }

  /** The user's role and the course's instructor as they are now. */
  private async mayFollow(courseId: string, userId: string): Promise<boolean> {
    const row = await roleAndInstructor(this.db, userId, courseId);
    return !!row && canReadCourseRoster({ userId, role: row.role, sessionId: null, tokenExpiresAt: null }, row);
  }
}
