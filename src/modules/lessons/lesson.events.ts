import type { Db } from '../../db/client.js';
import type { LessonEventRow, LessonRow, LessonStatus } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { Logger } from '../../logging/logger.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics } from '../../pubsub/topics.js';
import { insertLessonEvent } from './lesson-event.repository.js';

/** What travels over pub/sub when a lesson is created or changes status. Plain JSON. */
export interface LessonStatusChangedEvent {
  eventId: string;
  /** The event's position in the durable log (lesson_events.seq). */
  seq: number;
  /**
   * The `seq` of the course's event before this one (null: its first). Absent in events
   * published by a version that did not chain them.
   */
  prevSeq?: number | null;
  /** `seq`, opaque: what a client passes back as `after`. */
  cursor: string;
  lessonId: string;
  courseId: string;
  /** Null when the lesson was just created. */
  previousStatus: LessonStatus | null;
  status: LessonStatus;
  changedAt: string;
  changedById: string;
}

const CURSOR_PREFIX = 'lsc:';

export function encodeEventCursor(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`, 'utf8').toString('base64url');
}

/** The log position a cursor names; BAD_USER_INPUT naming `after` for anything else. */
export function decodeEventCursor(cursor: string): number {
  const invalid = () => AppError.badInput({ after: 'is not a lessonStatusChanged cursor' });
  if (cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^lsc:([1-9][0-9]{0,15})$/.exec(text);
  if (!match) throw invalid();
  const seq = Number(match[1]);
  if (!Number.isSafeInteger(seq)) throw invalid();
  return seq;
}

export function eventOfRow(row: LessonEventRow): LessonStatusChangedEvent {
  return {
    eventId: String(row.seq),
    seq: row.seq,
    prevSeq: row.prevSeq,
    cursor: encodeEventCursor(row.seq),
    lessonId: row.lessonId,
    courseId: row.courseId,
    previousStatus: row.previousStatus,
    status: row.status,
    changedAt: row.changedAt.toISOString(),
    changedById: row.changedById,
  };
}

/**
 * Lesson events: `record` writes one to the durable log in the caller's transaction (so the
 * event exists exactly when the change does, with its cursor); `publish` sends it live. It
 * listens to `lessonStatusChanged` on the after-commit emitter (wiring/modules.ts), so it runs
 * only after that transaction committed, and a subscriber never hears of a change that was
 * rolled back. Publishing is best effort and fire-and-forget: the caller answers at once, the
 * publish is bounded by the bus's command timeout (and fails at once while Redis is
 * disconnected), and a subscriber that missed it gets it by resubscribing with `after`.
 */
export class LessonEvents {
  constructor(
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  static async record(
    tx: Db,
    lesson: LessonRow,
    previousStatus: LessonStatus | null,
    actorId: string,
  ): Promise<LessonStatusChangedEvent> {
    const row = await insertLessonEvent(tx, {
      courseId: lesson.courseId,
      lessonId: lesson.id,
      previousStatus,
      status: lesson.status,
      changedAt: lesson.updatedAt,
      changedById: actorId,
    });
    return eventOfRow(row);
  }

  publish(event: LessonStatusChangedEvent): void {
    Promise.all([
      this.bus.publish(Topics.lessonStatus(event.courseId), event),
      this.bus.publish(Topics.lessonStatusAll, event),
    ]).catch((err: unknown) =>
      this.log.error({ err, lessonId: event.lessonId }, 'could not publish a lesson status event'),
    );
  }
}
