import { and, eq, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import { rowsOf, type Db } from '../../db/client.js';
import {
  courses,
  enrollments,
  lessonCompletions,
  lessons,
  users,
  LESSON_STATUSES,
  type LessonStatus,
  type Role,
} from '../../db/schema.js';

export interface ProgressData {
  courseId: string;
  studentId: string;
  completedLessons: number;
  totalLessons: number;
  percent: number;
  lastActivityAt: Date | null;
}

export interface CourseStatsData {
  courseId: string;
  activeEnrollments: number;
  averageProgressPercent: number;
  studentsCompleted: number;
  lessonsByStatus: Array<{ status: LessonStatus; count: number }>;
  generatedAt: Date;
}

const percentOf = (done: number, total: number) => (total === 0 ? 0 : (100 * done) / total);

/** The viewer's completion marks on these lessons: lesson id → completedAt. */
export async function completionsOf(db: Db, studentId: string, lessonIds: string[]): Promise<Map<string, Date>> {
  const rows = await db
    .select({ lessonId: lessonCompletions.lessonId, completedAt: lessonCompletions.completedAt })
    .from(lessonCompletions)
    .where(and(eq(lessonCompletions.studentId, studentId), anyUuid(lessonCompletions.lessonId, lessonIds)));
  return new Map(rows.map((r) => [r.lessonId, r.completedAt]));
}

/**
 * Progress of many (course, student) pairs in one statement: counted lessons of the course
 * (not CANCELLED), the student's marks on them, and the student's latest mark in the course.
 * Keyed "courseId|studentId".
 */
export async function progressOfPairs(
  db: Db,
  pairs: Array<{ courseId: string; studentId: string }>,
): Promise<Map<string, ProgressData>> {
  const result = new Map<string, ProgressData>();
  if (pairs.length === 0) return result;
  const courseIds = pairs.map((p) => p.courseId);
  const studentIds = pairs.map((p) => p.studentId);
  const rows = rowsOf<{
    course_id: string;
    student_id: string;
    total: number;
    done: number;
    last: Date | string | null;
  }>(
    await db.execute(sql`
      select p.course_id, p.student_id,
        (select count(*)::int from ${lessons} l where l.course_id = p.course_id and l.status <> 'CANCELLED') as total,
        (select count(*)::int from ${lessonCompletions} c join ${lessons} l on l.id = c.lesson_id
          where c.course_id = p.course_id and c.student_id = p.student_id and l.status <> 'CANCELLED') as done,
        (select max(c.completed_at) from ${lessonCompletions} c where c.course_id = p.course_id and c.student_id = p.student_id) as last
      from unnest(${sql.param(courseIds)}::uuid[], ${sql.param(studentIds)}::uuid[]) as p(course_id, student_id)`),
  );
  for (const r of rows) {
    result.set(`${r.course_id}|${r.student_id}`, {
      courseId: r.course_id,
      studentId: r.student_id,
      completedLessons: r.done,
      totalLessons: r.total,
      percent: percentOf(r.done, r.total),
      lastActivityAt: r.last === null ? null : new Date(r.last),
    });
  }
  return result;
}

/**
 * Course statistics for many courses in one statement, all aggregated in SQL: active
 * enrollments, mean progress over them, students who completed every counted lesson, and
 * lessons by status.
 */
export async function statsOfCourses(db: Db, courseIds: string[]): Promise<Map<string, CourseStatsData>> {
  const result = new Map<string, CourseStatsData>();
  if (courseIds.length === 0) return result;
  const rows = rowsOf<{
    course_id: string;
    active: number;
    avg: number | string;
    completed: number;
    by_status: Record<string, number>;
  }>(
    await db.execute(sql`
      with ids as (select distinct unnest(${sql.param(courseIds)}::uuid[]) as course_id),
      counted as (
        select i.course_id, count(l.id) filter (where l.status <> 'CANCELLED')::int as n
        from ids i left join ${lessons} l on l.course_id = i.course_id group by i.course_id),
      per_student as (
        select e.course_id, e.student_id, count(l.id)::int as done
        from ${enrollments} e
        join ids i on i.course_id = e.course_id
        left join ${lessonCompletions} c on c.course_id = e.course_id and c.student_id = e.student_id
        left join ${lessons} l on l.id = c.lesson_id and l.status <> 'CANCELLED'
        where e.status = 'ACTIVE'
        group by e.course_id, e.student_id)
      select k.course_id,
        (select count(*)::int from per_student p where p.course_id = k.course_id) as active,
        coalesce((select avg(case when k.n = 0 then 0 else 100.0 * p.done / k.n end)::float8
                  from per_student p where p.course_id = k.course_id), 0) as avg,
        (select count(*)::int from per_student p where p.course_id = k.course_id and k.n > 0 and p.done >= k.n) as completed,
        (select coalesce(jsonb_object_agg(s.status, s.n), '{}'::jsonb)
           from (select l.status, count(*)::int as n from ${lessons} l where l.course_id = k.course_id group by l.status) s) as by_status
      from counted k`),
  );
  const generatedAt = new Date();
  for (const r of rows) {
    result.set(r.course_id, {
      courseId: r.course_id,
      activeEnrollments: r.active,
      averageProgressPercent: Number(r.avg),
      studentsCompleted: r.completed,
      lessonsByStatus: LESSON_STATUSES.map((status) => ({ status, count: r.by_status[status] ?? 0 })),
      generatedAt,
    });
  }
  return result;
}

/**
 * Marks a lesson completed for a student, atomically with its conditions: the lesson is not
 * CANCELLED and the student is actively enrolled in its course. A second mark keeps the first
 * completedAt. Returns false when a condition does not hold (the caller says which).
 */
export async function insertCompletion(db: Db, studentId: string, lessonId: string): Promise<boolean> {
  const result = await db.execute(sql`
    with ok as (
      select l.id, l.course_id from ${lessons} l
      where l.id = ${lessonId}::uuid and l.status <> 'CANCELLED'
        and exists (select 1 from ${enrollments} e where e.course_id = l.course_id
                    and e.student_id = ${studentId}::uuid and e.status = 'ACTIVE')),
    ins as (
      insert into ${lessonCompletions} (student_id, lesson_id, course_id)
      select ${studentId}::uuid, ok.id, ok.course_id from ok
      on conflict on constraint lesson_completions_pkey do nothing)
    select count(*)::int as n from ok`);
  return rowsOf<{ n: number }>(result)[0]!.n > 0;
}

/** Removes a student's mark, under the same conditions as marking. False when they do not hold. */
export async function deleteCompletion(db: Db, studentId: string, lessonId: string): Promise<boolean> {
  const result = await db.execute(sql`
    with ok as (
      select l.id from ${lessons} l
      where l.id = ${lessonId}::uuid and l.status <> 'CANCELLED'
        and exists (select 1 from ${enrollments} e where e.course_id = l.course_id
                    and e.student_id = ${studentId}::uuid and e.status = 'ACTIVE')),
    del as (
      delete from ${lessonCompletions} c using ok
      where c.lesson_id = ok.id and c.student_id = ${studentId}::uuid)
    select count(*)::int as n from ok`);
  return rowsOf<{ n: number }>(result)[0]!.n > 0;
}

/** For each (course, user) pair: the user's current role and the course's instructor. */
export async function rosterReadersOf(
  db: Db,
  pairs: Array<{ courseId: string; userId: string }>,
): Promise<Map<string, { userId: string; role: Role; instructorId: string }>> {
  const result = new Map<string, { userId: string; role: Role; instructorId: string }>();
  if (pairs.length === 0) return result;
  const rows = rowsOf<{ course_id: string; user_id: string; role: Role; instructor_id: string }>(
    await db.execute(sql`
      select p.course_id, p.user_id, u.role, c.instructor_id
      from unnest(${sql.param(pairs.map((p) => p.courseId))}::uuid[], ${sql.param(pairs.map((p) => p.userId))}::uuid[]) as p(course_id, user_id)
      join ${users} u on u.id = p.user_id
      join ${courses} c on c.id = p.course_id`),
  );
  for (const r of rows)
    result.set(`${r.course_id}|${r.user_id}`, { userId: r.user_id, role: r.role, instructorId: r.instructor_id });
  return result;
}
