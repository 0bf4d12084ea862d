import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { requireSignedIn, type Viewer } from '../../auth/viewer.js';
import type { RequestScope } from '../../context.js';
import type { Db } from '../../db/client.js';
import { lessons, type CourseRow, type LessonRow, type LessonStatus } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { optional, parseInput } from '../../graphql/validation.js';
import { assertCanManageCourse, canManageCourse } from '../courses/index.js';
import type { LessonEvents } from './lesson.events.js';

/**
 * The lesson status machine:
 *   SCHEDULED → IN_PROGRESS → COMPLETED;  SCHEDULED | IN_PROGRESS → CANCELLED
 * and rescheduling while SCHEDULED. Each transition is a compare-and-set UPDATE
 * (`... WHERE id = $1 AND status = $expected`): of concurrent identical calls exactly one
 * matches a row, and only that one publishes an event.
 */
type Action = 'start' | 'complete' | 'cancel';

const MACHINE: Record<Action, { from: LessonStatus[]; to: LessonStatus; stamp: 'startedAt' | 'completedAt' | 'cancelledAt' }> = {
  start: { from: ['SCHEDULED'], to: 'IN_PROGRESS', stamp: 'startedAt' },
  complete: { from: ['IN_PROGRESS'], to: 'COMPLETED', stamp: 'completedAt' },
  cancel: { from: ['SCHEDULED', 'IN_PROGRESS'], to: 'CANCELLED', stamp: 'cancelledAt' },
};

/** The statuses a lesson in `status` can move to next. */
export function nextStatuses(status: LessonStatus): LessonStatus[] {
  return Object.values(MACHINE)
    .filter((t) => t.from.includes(status))
    .map((t) => t.to);
}

/** What `viewer` may do next with a lesson of `course` (empty unless they manage the course). */
export function allowedTransitions(viewer: Viewer, course: CourseRow, lesson: LessonRow): LessonStatus[] {
  return canManageCourse(viewer, course) ? nextStatuses(lesson.status) : [];
}

const reasonSchema = z.object({
  reason: optional(z.string().trim().max(500, 'must be at most 500 characters')),
});

export class LessonLifecycle {
  constructor(
    private readonly db: Db,
    private readonly events: LessonEvents,
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
    const lesson = await this.manageable(scope, id);
    const [row] = await this.db
      .update(lessons)
      .set({ scheduledAt })
      .where(and(eq(lessons.id, lesson.id), eq(lessons.status, 'SCHEDULED')))
      .returning();
    if (!row) throw await this.conflict(lesson.id, 'SCHEDULED', 'reschedule');
    await this.events.statusChanged(row, 'SCHEDULED', viewer.userId);
    return row;
  }

  private async transition(scope: RequestScope, id: string, action: Action, extra: Partial<LessonRow>): Promise<LessonRow> {
    const viewer = requireSignedIn(scope.viewer);
    const { from, to, stamp } = MACHINE[action];
    const lesson = await this.manageable(scope, id);
    // Compare-and-set against the status just read: `previousStatus` is exactly what the
    // row held when it changed. Losing a race re-reads and reports the new status.
    if (!from.includes(lesson.status)) throw await this.conflict(lesson.id, to, action);
    const [row] = await this.db
      .update(lessons)
      .set({ status: to, [stamp]: new Date(), ...extra })
      .where(and(eq(lessons.id, lesson.id), eq(lessons.status, lesson.status)))
      .returning();
    if (!row) throw await this.conflict(lesson.id, to, action);
    await this.events.statusChanged(row, lesson.status, viewer.userId);
    return row;
  }

  /** The current lesson row (not a cached one) of a course the viewer manages. */
  private async manageable(scope: RequestScope, id: string): Promise<LessonRow> {
    const uuid = uuidOf('Lesson', id);
    const visible = uuid ? await scope.loaders.lessons.visibleById.load(uuid) : null;
    if (!visible) throw AppError.notFound('Lesson');
    assertCanManageCourse(scope.viewer, await scope.loaders.courses.byId.load(visible.courseId));
    const [current] = await this.db.select().from(lessons).where(eq(lessons.id, visible.id));
    if (!current) throw AppError.notFound('Lesson');
    return current;
  }

  private async conflict(lessonId: string, to: LessonStatus, action: string): Promise<AppError> {
    const [row] = await this.db.select({ status: lessons.status }).from(lessons).where(eq(lessons.id, lessonId));
    if (!row) return AppError.notFound('Lesson');
    return AppError.conflict(`Cannot ${action} a ${row.status} lesson`, { from: row.status, to });
  }
}
