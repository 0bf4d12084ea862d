import { requireRole, requireSignedIn } from '../../auth/viewer.js';
import { touched, type RequestScope } from '../../request-scope.js';
import { isForeignKeyViolation, isUniqueViolation, type Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import type { EnrollmentRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import type { Emits } from '../../util/after-commit.js';
import type { CourseCommitEvents } from '../courses/index.js';
import { enrollRefusal, unenrollRefusal } from './enrollment.policy.js';
import { viewerStanding } from './enrollment.service.js';
import {
  findActiveEntitlement,
  cancelActiveEnrollment,
  insertEnrollment,
  reactivateLatestCancelled,
  lockCourseStatus,
} from './enrollment.repository.js';

/** What enrollment writes announce after they commit (see util/after-commit.ts). */
export interface EnrollmentCommitEvents {
  /** A course's enrollments changed: its live statistics follow. */
  courseActivity: { courseId: string };
}

/** Enrolling and unenrolling: students only, PUBLISHED courses only. */
export class EnrollmentCommands {
  constructor(
    private readonly db: Db,
    /**
     * Announces, after commit, that the student now follows the course (`courseFollowed`) and
     * that the course's enrollments changed (`courseActivity`, its live statistics).
     */
    private readonly afterCommit: Emits<Pick<CourseCommitEvents, 'courseFollowed'> & EnrollmentCommitEvents>,
    /**
     * In the enrolling transaction, on the active row: records a completion the student already
     * meets (what the course takes may have changed while they were away).
     */
    private readonly onActivated: (tx: Db, enrollment: EnrollmentRow) => Promise<unknown>,
  ) {}

  /**
   * Reactivates the student's latest cancelled enrollment, or inserts a new one. The partial
   * unique index (one ACTIVE row per student and course) decides concurrent calls: exactly
   * one wins, the rest are CONFLICT. No check-then-insert.
   */
  async enroll(scope: RequestScope, courseId: string): Promise<EnrollmentRow> {
    const viewer = requireRole(scope.viewer, 'STUDENT');
    const uuid = uuidOf('Course', courseId);
    const course = uuid ? await scope.loaders.courses.visibleById.load(uuid) : null;
    if (!course) throw AppError.notFound('Course');
    // The rule `Course.viewerCan.enroll` answers with; re-checked under the lock below.
    const { viewerEnrollment, entitled } = await viewerStanding(scope, course);
    const refusal = enrollRefusal(viewer, course, viewerEnrollment, entitled);
    if (refusal) throw refusal;
    let enrollment: EnrollmentRow;
    try {
      enrollment = await transaction(this.db, scope, async (tx) => {
        // Re-read the status under the course's row lock: an archive (which locks the row for update)
        // either committed before, and is seen here, or waits for this enrollment.
        // Grants and revocations lock the row too: the entitlement read below is current.
        const locked = await lockCourseStatus(tx, course.id);
        if (!locked) throw AppError.notFound('Course');
        const entitled =
          locked.priceCents > 0 && (await findActiveEntitlement(tx, viewer.userId, course.id)) !== undefined;
        const refusalNow = enrollRefusal(viewer, locked, null, entitled);
        if (refusalNow) throw refusalNow;
        const enrollment =
          (await reactivateLatestCancelled(tx, viewer.userId, course.id)) ??
          (await insertEnrollment(tx, viewer.userId, course.id));
        await this.onActivated(tx, enrollment);
        await appendToOutbox(tx, {
          type: 'enrollment.confirmed',
          enrollmentId: enrollment.id,
          studentId: enrollment.studentId,
          courseId: enrollment.courseId,
          occurredAt: enrollment.enrolledAt.toISOString(),
        });
        return enrollment;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'enrollments_active_student_course_key')) {
        throw AppError.conflict('Already enrolled in this course');
      }
      if (isForeignKeyViolation(err)) throw AppError.notFound('Course');
      throw err;
    }
    await this.changed(scope, enrollment);
    await this.afterCommit.emit('courseFollowed', { userId: viewer.userId, courseId: course.id });
    return enrollment;
  }

  async unenroll(scope: RequestScope, courseId: string): Promise<EnrollmentRow> {
    const viewer = requireSignedIn(scope.viewer);
    const uuid = uuidOf('Course', courseId);
    if (!uuid) throw AppError.notFound('Course');
    // The rule `Course.viewerCan.unenroll` answers with; the UPDATE below re-checks it atomically.
    const refusal = unenrollRefusal(viewer, await scope.loaders.enrollments.viewerByCourse.load(uuid));
    if (refusal) throw refusal;
    const row = await transaction(this.db, scope, (tx) => cancelActiveEnrollment(tx, viewer.userId, uuid));
    if (!row) throw AppError.notFound('Active enrollment');
    await this.changed(scope, row);
    return row;
  }

  /**
   * After the commit: the enrollment, its course's counts, the student (visible to the course's
   * instructor now), the student's own view (viewerEnrollment, lesson content), rosters.
   */
  private async changed(scope: RequestScope, e: EnrollmentRow): Promise<void> {
    touched(
      scope,
      `Enrollment:${e.id}`,
      `Course:${e.courseId}`,
      `User:${e.studentId}`,
      `Viewer:${e.studentId}`,
      'Enrollment:list',
    );
    await this.afterCommit.emit('courseActivity', { courseId: e.courseId });
  }
}
