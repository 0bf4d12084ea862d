import { randomUUID } from 'node:crypto';
import type { LessonRow, LessonStatus } from '../../db/schema.js';
import type { Logger } from '../../logging/logger.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics } from '../../pubsub/topics.js';

/** What travels over pub/sub when a lesson is created or changes status. Plain JSON. */
export interface LessonStatusChangedEvent {
  eventId: string;
  lessonId: string;
  courseId: string;
  /** Null when the lesson was just created. */
  previousStatus: LessonStatus | null;
  status: LessonStatus;
  changedAt: string;
  changedById: string;
}

/**
 * Publishes lesson events on the bus. It listens to `lessonStatusChanged` on the after-commit
 * emitter (wiring/modules.ts), so it runs only after a transaction committed, and a
 * subscriber never hears of a change that was rolled back. Publishing is best effort and
 * fire-and-forget: the change is durable in Postgres whatever happens to the live update,
 * the caller answers at once, and the publish itself is bounded by the bus's command timeout
 * (and fails at once while Redis is disconnected).
 */
export class LessonEvents {
  constructor(
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  statusChanged(lesson: LessonRow, previousStatus: LessonStatus | null, actorId: string): void {
    const event: LessonStatusChangedEvent = {
      eventId: randomUUID(),
      lessonId: lesson.id,
      courseId: lesson.courseId,
      previousStatus,
      status: lesson.status,
      changedAt: lesson.updatedAt.toISOString(),
      changedById: actorId,
    };
    Promise.all([this.bus.publish(Topics.lessonStatus(lesson.courseId), event), this.bus.publish(Topics.lessonStatusAll, event)]).catch((err: unknown) =>
      this.log.error({ err, lessonId: lesson.id }, 'could not publish a lesson status event'),
    );
  }
}
