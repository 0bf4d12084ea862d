import { requireSignedIn, type Viewer } from '../../auth/viewer.js';
import type { RequestScope } from '../../request-scope.js';
import type { CourseRow, LessonRow, LessonStatus } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { parseInput } from '../../graphql/validation.js';
import type { Emits } from '../../util/after-commit.js';
import type { LessonEventType } from '../../outbox/domain-events.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import { canManageCourse } from '../courses/index.js';
import type { LessonCommands, LessonCommitEvents } from './lesson.commands.js';
import { reasonSchema } from './lesson.inputs.js';
import { LessonEvents, type LessonStatusChangedEvent } from './lesson.events.js';
import { updateLessonIfStatus } from './lesson.repository.js';

/**
 * The lesson status machine:
 *   SCHEDULED → IN_PROGRESS → COMPLETED;  SCHEDULED | IN_PROGRESS → CANCELLED
 * and rescheduling while SCHEDULED. Each transition is a compare-and-set UPDATE
 * (`... WHERE id = $1 AND status = $expected`): of concurrent identical calls exactly one
 * matches a row, and only that one publishes an event.
 */
type Action = 'start' | 'complete' | 'cancel';

const MACHINE: Record<
  Action,
  { from: LessonStatus[]; to: LessonStatus; stamp: 'startedAt' | 'completedAt' | 'cancelledAt'; event: LessonEventType }
> = {
  start: { from: ['SCHEDULED'], to: 'IN_PROGRESS', stamp: 'startedAt', event: 'lesson.started' },
  complete: { from: ['IN_PROGRESS'], to: 'COMPLETED', stamp: 'completedAt', event: 'lesson.completed' },
  cancel: { from: ['SCHEDULED', 'IN_PROGRESS'], to: 'CANCELLED', stamp: 'cancelledAt', event: 'lesson.cancelled' },
};

/** The statuses a lesson in `status` can move to next. */
function nextStatuses(status: LessonStatus): LessonStatus[] {
  return Object.values(MACHINE)
    .filter((t) => t.from.includes(status))
    .map((t) => t.to);
}

/** What `viewer` may do next with a lesson of `course` (empty unless they manage the course). */
export function allowedTransitions(viewer: Viewer, course: CourseRow, lesson: LessonRow): LessonStatus[] {
  return canManageCourse(viewer, course) ? nextStatuses(lesson.status) : [];
}

export class LessonLifecycle {
  constructor(
    private readonly lessonCommands: LessonCommands,
    private readonly afterCommit: Emits<LessonCommitEvents>,
  ) {}

  start(scope: RequestScope, id: string): Promise<LessonRow> {
    return this.transition(scope, id, 'start', {});
  }

  complete(scope: RequestScope, id: string): Promise<LessonRow> {
    return this.transition(scope, id, 'complete', {});
  }

  cancel(scope: RequestScope, id: string, reason: string | null | undefined): Promise<LessonRow> {
    const v = parseInput(reasonSchema, { reason });
    return this.transition(scope, id, 'cancel', { cancellationReason: v.reason || null });
  }

  /** Only while SCHEDULED, and only to a time in the future. */
  async reschedule(scope: RequestScope, id: string, scheduledAt: Date): Promise<LessonRow> {
    const viewer = requireSignedIn(scope.viewer);
    if (!(scheduledAt.getTime() > Date.now())) throw AppError.badInput({ scheduledAt: 'must be in the future' });
    const { row, live } = await this.compareAndSet(
      scope,
      viewer.userId,
      id,
      ['SCHEDULED'],
      'SCHEDULED',
      'reschedule',
      { scheduledAt },
      (before) =>
        // A lesson that had no time is now scheduled; one that had a time moved.
        before.scheduledAt
          ? { type: 'lesson.rescheduled', previousScheduledAt: before.scheduledAt.toISOString() }
          : { type: 'lesson.scheduled' },
    );
    await this.afterCommit.emit('lessonStatusChanged', live);
    return row;
  }

  private async transition(
    scope: RequestScope,
    id: string,
    action: Action,
    extra: Partial<LessonRow>,
  ): Promise<LessonRow> {
    const viewer = requireSignedIn(scope.viewer);
    const { from, to, stamp, event } = MACHINE[action];
    const changes = { status: to, [stamp]: new Date(), ...extra };
    const { row, live } = await this.compareAndSet(scope, viewer.userId, id, from, to, action, changes, () =>
      event === 'lesson.cancelled' ? { type: event, reason: extra.cancellationReason ?? null } : { type: event },
    );
    // Announced after the transaction committed, with the event recorded in it (exactly the
    // status the row held, and its cursor). The live publish it leads to is not awaited
    // (lesson.events.ts): the write is committed, and Redis (slow, away) must not delay or fail
    // the answer. The outbox carries the event to notifications, the log to resubscribers.
    await this.afterCommit.emit('lessonStatusChanged', live);
    return row;
  }

  /**
   * `UPDATE ... WHERE id = $1 AND status = $expected`, in the same transaction (and under the
   * same ownership checks and row locks) as every other lesson write. Concurrent callers
   * queue on the row lock; the ones after the winner find the new status and get CONFLICT.
   * The domain event for notifications is written to the outbox in that same transaction.
   */
  private compareAndSet(
    scope: RequestScope,
    actorId: string,
    id: string,
    from: LessonStatus[],
    to: LessonStatus,
    action: string,
    changes: Partial<LessonRow>,
    event: (before: LessonRow) => {
      type: LessonEventType;
      previousScheduledAt?: string | null;
      reason?: string | null;
    },
  ): Promise<{ row: LessonRow; live: LessonStatusChangedEvent }> {
    return this.lessonCommands.withManageableLesson(scope, id, async (tx, lesson) => {
      const conflict = () =>
        AppError.conflict(`Cannot ${action} a ${lesson.status} lesson`, { from: lesson.status, to });
      if (!from.includes(lesson.status)) throw conflict();
      const row = await updateLessonIfStatus(tx, lesson.id, lesson.status, changes);
      if (!row) throw conflict();
      if (to === 'CANCELLED') await this.lessonCommands.countedLessonsChanged(tx, row.courseId);
      await appendToOutbox(tx, {
        lessonId: row.id,
        courseId: row.courseId,
        scheduledAt: row.scheduledAt?.toISOString() ?? null,
        occurredAt: row.updatedAt.toISOString(),
        ...event(lesson),
      });
      // The replayable log (lessonStatusChanged's cursors), in the same transaction.
      return { row, live: await LessonEvents.record(tx, row, lesson.status, actorId) };
    });
  }
}
