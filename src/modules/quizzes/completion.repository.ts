import { and, asc, eq, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { courseCompletions, enrollments, outbox } from '../../db/schema.js';
import type { CourseCompletedEvent } from '../../outbox/domain-events.js';
import { completionColumns } from './quiz.repository.js';

/**
 * After a change to what completing a course takes (a lesson cancelled or deleted, a required
 * quiz made optional or deleted): records the first completion of every actively enrolled
 * student the rule now holds for, with their `course.completed` outbox events, in the
 * change's own transaction. Returns how many completed.
 *
 * Every active enrollment row of the course is locked first (in id order, as a mark or a
 * grading locks its own one before it checks): a student's concurrent mark or grading then
 * either commits before this check reads (and is seen) or runs its own check after this
 * change committed (and sees it). Without the locks, both could miss the completion.
 * Callers that also lock a quiz must lock the enrollments before it (the grading order).
 */
export async function recordCompletionsOfCourse(tx: Db, courseId: string): Promise<number> {
  if (!(await lockCourseEnrollments(tx, courseId))) return 0;
  const completed = rowsOf<{ enrollment_id: string; student_id: string; completed_at: Date | string }>(
    await tx.execute(sql`
      insert into ${courseCompletions} (enrollment_id, course_id, student_id)
      select e.id, e.course_id, e.student_id from ${enrollments} e
        cross join lateral (select ${completionColumns(sql`e.course_id`, sql`e.student_id`)}) s
      where e.course_id = ${courseId}::uuid and e.status = 'ACTIVE'
        and s.total + s.required > 0 and s.done >= s.total and s.passed >= s.required
      on conflict do nothing
      returning enrollment_id, student_id, completed_at`),
  );
  if (!completed.length) return 0;
  await tx.insert(outbox).values(
    completed.map((r) => {
      const event: CourseCompletedEvent = {
        type: 'course.completed',
        enrollmentId: r.enrollment_id,
        courseId,
        studentId: r.student_id,
        occurredAt: new Date(r.completed_at).toISOString(),
      };
      return { type: event.type, payload: event };
    }),
  );
  return completed.length;
}

/** Row-locks the course's active enrollments in id order; how many there are. */
export async function lockCourseEnrollments(tx: Db, courseId: string): Promise<number> {
  const rows = await tx
    .select({ id: enrollments.id })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.status, 'ACTIVE')))
    .orderBy(asc(enrollments.id))
    .for('update');
  return rows.length;
}
