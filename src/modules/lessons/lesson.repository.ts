import { and, count, eq, getTableColumns, gte, lt, sql, type SQL } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import { anyUuidAt, prepared } from '../../db/prepared.js';
import type { Viewer } from '../../auth/viewer.js';
import { rowsOf, type Db } from '../../db/client.js';
import { pagesByParent, type ParentQuery } from '../../db/paged-by-parent.js';
import {
  courses,
  enrollments,
  lessons,
  users,
  LESSON_STATUSES,
  type LessonRow,
  type LessonStatus,
  type NewLessonRow,
  type Role,
} from '../../db/schema.js';
import { keysetCondition, keysetOrder, type PageRequest, type SortSpec } from '../../graphql/pagination.js';
import { NodeColumns } from '../../graphql/selected-columns.js';
import { courseVisibility } from '../courses/index.js';

/**
 * `Course.lessons`: curriculum order — lessons without a section first, then by section
 * position, then position (`curriculum_key`, one indexed int).
 */
export const lessonSort: SortSpec<LessonRow> = {
  key: 'lessons:CURRICULUM:ASC',
  column: lessons.curriculumKey,
  idColumn: lessons.id,
  kind: 'int',
  direction: 'ASC',
  valueOf: (l) => l.curriculumKey,
  idOf: (l) => l.id,
};

/** Lessons follow their course: a lesson is visible exactly when its course is. */
export async function findLessonsByIds(db: Db, ids: string[], visibleTo?: Viewer): Promise<LessonRow[]> {
  if (!visibleTo) return db.select().from(lessons).where(anyUuid(lessons.id, ids));
  const rows = await db
    .select({ lesson: lessons })
    .from(lessons)
    .innerJoin(courses, eq(courses.id, lessons.courseId))
    .where(and(anyUuid(lessons.id, ids), courseVisibility(visibleTo)));
  return rows.map((r) => r.lesson);
}

/**
 * `Course.lessons` loads only the columns its query selects; the keys, the cursor's column
 * and the course (read by `@auth` and the cache tags) always.
 */
export const lessonListColumns = new NodeColumns(getTableColumns(lessons), ['id', 'courseId', 'curriculumKey']);
export type LessonColumns = ReturnType<typeof lessonListColumns.of>;

export function lessonsPageByCourses(
  db: Db,
  courseIds: string[] | ParentQuery,
  page: PageRequest,
  status: LessonStatus | null,
  columns?: LessonColumns,
) {
  return pagesByParent(
    db,
    lessons,
    lessons.courseId,
    (l: LessonRow) => l.courseId,
    courseIds,
    lessonSort,
    page,
    status ? eq(lessons.status, sql.placeholder('status')) : undefined,
    columns?.columns,
    { shape: `lessons|${status ? 'status' : ''}|${columns?.key ?? '*'}`, values: status ? { status } : undefined },
  );
}

export type LessonCounts = Record<LessonStatus | 'ALL', number>;

export function emptyLessonCounts(): LessonCounts {
  return { ALL: 0, SCHEDULED: 0, IN_PROGRESS: 0, COMPLETED: 0, CANCELLED: 0 };
}

/** Lesson counts per course and status in one statement; `lessonCount` and every `totalCount` share it. */
export async function lessonCountsByCourses(db: Db, courseIds: string[]): Promise<Map<string, LessonCounts>> {
  const rows = await prepared(db, 'lesson-counts-by-courses', () =>
    db
      .select({ courseId: lessons.courseId, status: lessons.status, n: count() })
      .from(lessons)
      .where(anyUuidAt(lessons.courseId, 'ids'))
      .groupBy(lessons.courseId, lessons.status)
      .prepare('lesson_counts_by_courses'),
  ).execute({ ids: courseIds });
  const result = new Map<string, LessonCounts>();
  for (const { courseId, status, n } of rows) {
    const counts = result.get(courseId) ?? emptyLessonCounts();
    if (LESSON_STATUSES.includes(status)) counts[status] += n;
    counts.ALL += n;
    result.set(courseId, counts);
  }
  return result;
}

/** The lesson row; with `lock`, locked for the rest of the transaction. */
export async function findLesson(db: Db, id: string, lock = false): Promise<LessonRow | undefined> {
  const query = db.select().from(lessons).where(eq(lessons.id, id));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function insertLesson(db: Db, values: NewLessonRow): Promise<LessonRow> {
  const [row] = await db.insert(lessons).values(values).returning();
  return row!;
}

export async function updateLesson(db: Db, id: string, changes: Partial<LessonRow>): Promise<LessonRow> {
  const [row] = await db.update(lessons).set(changes).where(eq(lessons.id, id)).returning();
  return row!;
}

/**
 * Compare-and-set: applies `changes` only while the lesson is still `from`; undefined when
 * another write changed its status first.
 */
export async function updateLessonIfStatus(
  db: Db,
  id: string,
  from: LessonStatus,
  changes: Partial<LessonRow>,
): Promise<LessonRow | undefined> {
  const [row] = await db
    .update(lessons)
    .set(changes)
    .where(and(eq(lessons.id, id), eq(lessons.status, from)))
    .returning();
  return row;
}

export async function deleteLesson(db: Db, id: string): Promise<void> {
  await db.delete(lessons).where(eq(lessons.id, id));
}

/**
 * Courses each of `userIds` teaches or is actively enrolled in (the courses whose lessons they
 * follow live): one statement for many users (sockets subscribing with `courseId: null`), built
 * once, through the instructor and student indexes.
 */
export async function followedCourseIdsOf(db: Db, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await prepared(db, 'followed-course-ids', () =>
    db
      .select({ userId: courses.instructorId, courseId: courses.id })
      .from(courses)
      .where(anyUuidAt(courses.instructorId, 'ids'))
      .union(
        db
          .select({ userId: enrollments.studentId, courseId: enrollments.courseId })
          .from(enrollments)
          .where(and(anyUuidAt(enrollments.studentId, 'ids'), eq(enrollments.status, 'ACTIVE'))),
      )
      .prepare('followed_course_ids'),
  ).execute({ ids: [...userIds] });
  const byUser = new Map<string, string[]>(userIds.map((id) => [id, []]));
  for (const r of rows) byUser.get(r.userId)?.push(r.courseId);
  return byUser;
}

/**
 * Per (course, user) pair: the user's role, the course's instructor and status, and whether the
 * user is actively enrolled in it. One statement for any number of pairs (sockets subscribing
 * to different courses), built once; pairs naming no course or no user are left out.
 */
export function courseAccessOfPairs(db: Db, pairs: ReadonlyArray<{ courseId: string; userId: string }>) {
  return prepared(db, 'course-access-of-pairs', () =>
    db
      .select({
        courseId: courses.id,
        userId: users.id,
        role: users.role,
        instructorId: courses.instructorId,
        courseStatus: courses.status,
        enrolled: sql<boolean>`exists (select 1 from ${enrollments} where ${enrollments.courseId} = ${courses.id}
        and ${enrollments.studentId} = ${users.id} and ${enrollments.status} = 'ACTIVE')`,
      })
      .from(
        sql`unnest(${sql.placeholder('courseIds')}::uuid[], ${sql.placeholder('userIds')}::uuid[]) as pair(course_id, user_id)`,
      )
      .innerJoin(courses, sql`${courses.id} = pair.course_id`)
      .innerJoin(users, sql`${users.id} = pair.user_id`)
      .prepare('course_access_of_pairs'),
  ).execute({ courseIds: pairs.map((p) => p.courseId), userIds: pairs.map((p) => p.userId) });
}

/**
 * `courseAccessOfPairs` for an event's subscribers, answering only the exceptions: of `subscribers`
 * (user id and the role their token names), the ones missing, whose role is no longer that
 * one, or who may not follow the course (not an admin, not its instructor still holding the
 * INSTRUCTOR role, not actively enrolled), each with their current role and standing. Thousands
 * of subscribers are checked with one statement that returns a handful of rows. The first row
 * is the course itself (userId null); no rows at all: the course is gone.
 */
export async function courseAccessExceptions(
  db: Db,
  courseId: string,
  subscribers: ReadonlyArray<{ readonly userId: string; readonly role: Role }>,
): Promise<{
  instructorId: string | null;
  exceptions: Array<{ userId: string; tokenRole: Role; role: Role | null; instructorId: string; enrolled: boolean }>;
}> {
  const ids = subscribers.map((s) => s.userId);
  const roles = subscribers.map((s) => s.role);
  const rows = rowsOf<{
    user_id: string | null;
    token_role: Role;
    role: Role | null;
    instructor_id: string;
    enrolled: boolean;
  }>(
    await db.execute(sql`
    select null::uuid as user_id, null::text as token_role, null::text as role, c.instructor_id, false as enrolled, 0 as k
      from ${courses} c where c.id = ${courseId}::uuid
    union all
    select s.id, s.role, u.role, c.instructor_id,
        exists (select 1 from ${enrollments} e where e.course_id = c.id and e.student_id = s.id and e.status = 'ACTIVE'),
        1
      from unnest(${sql.param(ids)}::uuid[], ${sql.param(roles)}::text[]) as s(id, role)
      join ${courses} c on c.id = ${courseId}::uuid
      left join ${users} u on u.id = s.id
      where u.id is null or u.role <> s.role or not (
        u.role = 'ADMIN' or (u.role = 'INSTRUCTOR' and c.instructor_id = u.id)
        or exists (select 1 from ${enrollments} e where e.course_id = c.id and e.student_id = u.id and e.status = 'ACTIVE'))
    order by k`),
  );
  const [course, ...others] = rows;
  return {
    instructorId: course && course.user_id === null ? course.instructor_id : null,
    exceptions: others.map((r) => ({
      userId: r.user_id!,
      tokenRole: r.token_role,
      role: r.role,
      instructorId: r.instructor_id,
      enrolled: r.enrolled,
    })),
  };
}

export const scheduleSort: SortSpec<LessonRow> = {
  key: 'schedule:SCHEDULED_AT:ASC',
  column: lessons.scheduledAt,
  idColumn: lessons.id,
  kind: 'timestamp',
  direction: 'ASC',
  valueOf: (l) => l.scheduledAt!,
  idOf: (l) => l.id,
};

/**
 * Courses a user follows, as a subquery: those they teach (under the policy's rule: they hold
 * the INSTRUCTOR role, see teachesCourse) and those they are actively enrolled in, each only
 * while the user may see it (courseVisibility: a draft of someone else's is never there). The
 * schedule reads each through lessons_course_id_scheduled_at_id_idx (one index range per course).
 */
function followedCourseIdsSql(user: ScheduleOwner): SQL {
  const taught =
    user.role === 'INSTRUCTOR'
      ? sql`select ${courses.id} from ${courses} where ${courses.instructorId} = ${user.userId}::uuid union `
      : sql``;
  const followed = sql`(${taught}select ${enrollments.courseId} from ${enrollments}
    where ${enrollments.studentId} = ${user.userId}::uuid and ${enrollments.status} = 'ACTIVE')`;
  return sql`(select ${courses.id} from ${courses} where ${courses.id} in ${followed} and ${courseVisibility(user) ?? sql`true`})`;
}

/** Whose schedule: the user and the role they hold now (their row, not a token). */
export type ScheduleOwner = Pick<Viewer, 'role'> & { readonly userId: string };

function scheduleWhere(user: ScheduleOwner, from: Date, to: Date): SQL {
  return and(
    sql`${lessons.courseId} in ${followedCourseIdsSql(user)}`,
    gte(lessons.scheduledAt, from),
    lt(lessons.scheduledAt, to),
  )!;
}

/** One page (size + 1 rows) of a user's schedule in [from, to), by scheduledAt then id. */
export function schedulePage(
  db: Db,
  user: ScheduleOwner,
  from: Date,
  to: Date,
  page: PageRequest,
): Promise<LessonRow[]> {
  return db
    .select()
    .from(lessons)
    .where(and(scheduleWhere(user, from, to), keysetCondition(scheduleSort, page)))
    .orderBy(...keysetOrder(scheduleSort, page))
    .limit(page.size + 1);
}

export async function scheduleCount(db: Db, user: ScheduleOwner, from: Date, to: Date): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(lessons)
    .where(scheduleWhere(user, from, to));
  return row?.n ?? 0;
}
