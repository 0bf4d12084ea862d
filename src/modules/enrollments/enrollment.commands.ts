import { and, desc, eq, sql } from 'drizzle-orm';
import { requireRole, requireSignedIn } from '../../auth/viewer.js';
import { touched, type RequestScope } from '../../request-scope.js';
import { isForeignKeyViolation, isUniqueViolation, type Db } from '../../db/client.js';
import { courses, enrollments, type EnrollmentRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import { enrollRefusal, unenrollRefusal } from './enrollment.policy.js';

/** Enrolling and unenrolling: students only, PUBLISHED courses only. */
export class EnrollmentCommands {
  constructor(
    private readonly db: Db,
    /** Told after commit that a student now follows a course (live subscriptions add it). */
    private readonly onFollow: (userId: string, courseId: string) => void = () => {},
    /** Told after commit that a course's enrollments changed (its live statistics). */
    private readonly onCourseActivity: (courseId: string) => void = () => {},
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
    const refusal = enrollRefusal(viewer, course, await scope.loaders.enrollments.viewerByCourse.load(course.id));
    if (refusal) throw refusal;
    let enrollment: EnrollmentRow;
    try {
      enrollment = await this.db.transaction(async (tx) => {
        // Re-read the status under a share lock: an archive (which locks the row for update)
        // either committed before, and is seen here, or waits for this enrollment.
        const [current] = await tx.select({ status: courses.status }).from(courses).where(eq(courses.id, course.id)).for('share');
        if (!current) throw AppError.notFound('Course');
        const refusalNow = enrollRefusal(viewer, current, null);
        if (refusalNow) throw refusalNow;
        const latestCancelled = tx
          .select({ id: enrollments.id })
          .from(enrollments)
          .where(and(eq(enrollments.studentId, viewer.userId), eq(enrollments.courseId, course.id), eq(enrollments.status, 'CANCELLED')))
          .orderBy(desc(enrollments.enrolledAt))
          .limit(1);
        // `status = 'CANCELLED'` is re-checked after waiting on a concurrent reactivation,
        // so only one of them can flip the row.
        const [reactivated] = await tx
          .update(enrollments)
          .set({ status: 'ACTIVE', enrolledAt: new Date(), cancelledAt: null })
          .where(and(eq(enrollments.id, sql`(${latestCancelled})`), eq(enrollments.status, 'CANCELLED')))
          .returning();
        const enrollment =
          reactivated ?? (await tx.insert(enrollments).values({ studentId: viewer.userId, courseId: course.id }).returning())[0]!;
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
    this.onFollow(viewer.userId, course.id);
    return enrollment;
  }

  async unenroll(scope: RequestScope, courseId: string): Promise<EnrollmentRow> {
    const viewer = requireSignedIn(scope.viewer);
    const uuid = uuidOf('Course', courseId);
    if (!uuid) throw AppError.notFound('Course');
    // The rule `Course.viewerCan.unenroll` answers with; the UPDATE below re-checks it atomically.
    const refusal = unenrollRefusal(viewer, await scope.loaders.enrollments.viewerByCourse.load(uuid));
    if (refusal) throw refusal;
    const [row] = await this.db
      .update(enrollments)
      .set({ status: 'CANCELLED', cancelledAt: new Date() })
      .where(and(eq(enrollments.studentId, viewer.userId), eq(enrollments.courseId, uuid), eq(enrollments.status, 'ACTIVE')))
      .returning();
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
    this.onCourseActivity(e.courseId);
  }
}
