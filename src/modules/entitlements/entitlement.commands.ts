import { requireSignedIn } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import type { CourseRow, EntitlementRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import type { RequestScope } from '../../request-scope.js';
import type { Emits } from '../../util/after-commit.js';
import { canManageCourse, type CourseCommitEvents } from '../courses/index.js';
import {
  cancelActiveEnrollment,
  findActiveEntitlement,
  lockCourseStatus,
  type EnrollmentCommitEvents,
} from '../enrollments/index.js';
import { insertEntitlement, isStudent, revokeEntitlement } from './entitlement.repository.js';

/** What entitlement writes announce after they commit (see util/after-commit.ts). */
export interface EntitlementCommitEvents {
  /**
   * A student's access to a course changed: an entitlement granted or revoked, and perhaps an
   * enrollment made or cancelled with it (`enrollmentChanged`). The response cache forgets what
   * depended on it, also for writes that come from no GraphQL request (payment webhooks).
   */
  courseAccessChanged: { courseId: string; studentId: string; entitlementId: string; enrollmentChanged: boolean };
}

export type EntitlementEvents = EntitlementCommitEvents &
  Pick<CourseCommitEvents, 'courseFollowed'> &
  EnrollmentCommitEvents;

/** Grants and revocations by a course's instructor or an admin. */
export class EntitlementCommands {
  constructor(
    private readonly db: Db,
    private readonly afterCommit: Emits<EntitlementEvents>,
  ) {}

  /** Idempotent: a student who already holds an active entitlement keeps it (and it is returned). */
  async grant(scope: RequestScope, courseId: string, studentId: string): Promise<EntitlementRow> {
    const viewer = requireSignedIn(scope.viewer);
    const course = await this.manageable(scope, courseId);
    const student = await this.student(studentId);
    const { row, created } = await transaction(this.db, scope, async (tx) => {
      // Enrolling locks the same row: an enroll sees the grant committed, or waits for it.
      if (!(await lockCourseStatus(tx, course.id))) throw AppError.notFound('Course');
      const existing = await findActiveEntitlement(tx, student, course.id);
      if (existing) return { row: existing, created: false };
      const row = await insertEntitlement(tx, {
        courseId: course.id,
        studentId: student,
        source: 'GRANT',
        grantedBy: viewer.userId,
      });
      await appendToOutbox(tx, {
        type: 'course.access-granted',
        entitlementId: row.id,
        courseId: row.courseId,
        studentId: row.studentId,
        source: 'GRANT',
        occurredAt: row.grantedAt.toISOString(),
      });
      return { row, created: true };
    });
    if (created) await this.changed(row, false);
    return row;
  }

  /** Ends the active entitlement and cancels the student's active enrollment with it. */
  async revoke(scope: RequestScope, courseId: string, studentId: string): Promise<EntitlementRow> {
    const course = await this.manageable(scope, courseId);
    const student = uuidOf('User', studentId);
    if (!student) throw AppError.notFound('Active entitlement');
    const { row, cancelled } = await transaction(this.db, scope, async (tx) => {
      if (!(await lockCourseStatus(tx, course.id))) throw AppError.notFound('Course');
      const active = await findActiveEntitlement(tx, student, course.id);
      const row = active && (await revokeEntitlement(tx, active.id));
      if (!row) throw AppError.notFound('Active entitlement');
      const cancelled = await cancelActiveEnrollment(tx, student, course.id);
      return { row, cancelled: cancelled !== undefined };
    });
    await this.changed(row, cancelled);
    return row;
  }

  /**
   * After the commit: the response cache (the student's own answers: viewerEntitlement,
   * viewerCan, viewerEnrollment; with an enrollment change, the course's counts and rosters)
   * and the course's live statistics. Cancelling the enrollment is enough for the student's
   * open subscriptions: they check the active enrollment at every delivery.
   */
  async changed(row: EntitlementRow, enrollmentChanged: boolean, enrolled = false): Promise<void> {
    const { courseId, studentId } = row;
    await this.afterCommit.emit('courseAccessChanged', {
      courseId,
      studentId,
      entitlementId: row.id,
      enrollmentChanged,
    });
    if (!enrollmentChanged) return;
    await this.afterCommit.emit('courseActivity', { courseId });
    if (enrolled) await this.afterCommit.emit('courseFollowed', { userId: studentId, courseId });
  }

  /** The course (visible to the viewer) if the viewer is its instructor or an admin. */
  private async manageable(scope: RequestScope, courseId: string): Promise<CourseRow> {
    const uuid = uuidOf('Course', courseId);
    const course = uuid ? await scope.loaders.courses.visibleById.load(uuid) : null;
    if (!course) throw AppError.notFound('Course');
    if (!canManageCourse(scope.viewer, course))
      throw AppError.forbidden("Only the course's instructor and admins grant or revoke access");
    return course;
  }

  private async student(studentId: string): Promise<string> {
    const uuid = uuidOf('User', studentId);
    if (!uuid || !(await isStudent(this.db, uuid))) throw AppError.badInput({ studentId: 'must name a student' });
    return uuid;
  }
}
