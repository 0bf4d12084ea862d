import { requireRole, requireSignedIn } from '../../auth/viewer.js';
import { touched, type RequestScope } from '../../request-scope.js';
import { isForeignKeyViolation, isUniqueViolation, type Db } from '../../db/client.js';
import type { EnrollmentRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import type { Emits } from '../../util/after-commit.js';
import type { CourseCommitEvents } from '../courses/index.js';
import {
  cancelActiveEnrollment,
  insertEnrollment,
  reactivateLatestCancelled,
  shareLockCourseStatus,
} from './enrollment.repository.js';

/** Enrolling and unenrolling: students only, PUBLISHED courses only. */
export class EnrollmentCommands {
  constructor(
    private readonly db: Db,
    /** Announces, after commit, that the student now follows the course (`courseFollowed`). */
    private readonly afterCommit: Emits<Pick<CourseCommitEvents, 'courseFollowed'>>,
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
    let enrollment: EnrollmentRow;
    try {
      enrollment = await this.db.transaction(async (tx) => {
        // Re-read the status under a share lock: an archive (which locks the row for update)
        // either committed before, and is seen here, or waits for this enrollment.
        const status = await shareLockCourseStatus(tx, course.id);
        if (!status) throw AppError.notFound('Course');
        if (status !== 'PUBLISHED') {
          throw AppError.conflict(`A ${status} course does not take enrollments`, { status });
        }
        const enrollment =
          (await reactivateLatestCancelled(tx, viewer.userId, course.id)) ?? (await insertEnrollment(tx, viewer.userId, course.id));
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
    this.changed(scope, enrollment);
    await this.afterCommit.emit('courseFollowed', { userId: viewer.userId, courseId: course.id });
    return enrollment;
  }

  async unenroll(scope: RequestScope, courseId: string): Promise<EnrollmentRow> {
    const viewer = requireSignedIn(scope.viewer);
    const uuid = uuidOf('Course', courseId);
    if (!uuid) throw AppError.notFound('Course');
    const row = await cancelActiveEnrollment(this.db, viewer.userId, uuid);
    if (!row) throw AppError.notFound('Active enrollment');
    this.changed(scope, row);
    return row;
  }

  /**
   * After the commit: the enrollment, its course's counts, the student (visible to the course's
   * instructor now), the student's own view (viewerEnrollment, lesson content), rosters.
   */
  private changed(scope: RequestScope, e: EnrollmentRow): void {
    touched(scope, `Enrollment:${e.id}`, `Course:${e.courseId}`, `User:${e.studentId}`, `Viewer:${e.studentId}`, 'Enrollment:list');
  }
}
