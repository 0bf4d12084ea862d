import { sql } from 'drizzle-orm';
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
 * The caller holds the course row's update lock (CourseCommands.withManageableCourse). Every
 * write that checks one student's completion (a mark, a grading) holds a key-share lock on that
 * row when it checks (a mark through its foreign key, a grading through lockActiveEnrollment):
 * so it either committed before this check reads (and is seen), or checks after this change
 * committed (and sees it). No enrollment row is locked here: an unenrollment locks its row and
 * then the course's (its count), the opposite order.
 */
export async function recordCompletionsOfCourse(tx: Db, courseId: string): Promise<number> {
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
