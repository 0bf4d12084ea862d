import { and, count, desc, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import { anyUuidAt, prepared } from '../../db/prepared.js';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { pagesByParent } from '../../db/paged-by-parent.js';
import {
  courses,
  enrollments,
  entitlements,
  type CourseStatus,
  type EnrollmentRow,
  type EntitlementRow,
} from '../../db/schema.js';
import type { PageRequest, SortSpec } from '../../graphql/pagination.js';
import { courseVisibility } from '../courses/index.js';

/** Most recent first, for a course's roster and a student's own list alike. */
export function enrollmentSort(list: string): SortSpec<EnrollmentRow> {
  return {
    key: `${list}:ENROLLED_AT:DESC`,
    column: enrollments.enrolledAt,
    idColumn: enrollments.id,
    kind: 'timestamp',
    direction: 'DESC',
    valueOf: (e) => e.enrolledAt,
    idOf: (e) => e.id,
  };
}
export const courseRosterSort = enrollmentSort('courseEnrollments');
export const studentEnrollmentSort = enrollmentSort('userEnrollments');

/** The enrollment's course is visible to the viewer: a hidden course hides its enrollments too. */
function courseVisibleTo(viewer: Viewer): SQL | undefined {
  const visible = courseVisibility(viewer);
  return visible && sql`exists (select 1 from ${courses} where ${courses.id} = ${enrollments.courseId} and ${visible})`;
}

/**
 * An enrollment is visible to its student, the course's instructor and admins, and only
 * while its course is visible to them (a cancelled enrollment in a course archived since is
 * as gone as the course).
 */
function enrollmentVisibility(viewer: Viewer): SQL | undefined {
  if (viewer.role === 'ADMIN') return undefined;
  if (!viewer.userId) return sql`false`;
  // The instructor's view of a roster follows teachesCourse (course.policy): role and course.
  const teaches =
    viewer.role === 'INSTRUCTOR'
      ? sql`exists (select 1 from ${courses} where ${courses.id} = ${enrollments.courseId} and ${courses.instructorId} = ${viewer.userId})`
      : undefined;
  return and(or(eq(enrollments.studentId, viewer.userId), teaches), courseVisibleTo(viewer));
}

export function findEnrollmentsByIds(db: Db, ids: string[], visibleTo: Viewer): Promise<EnrollmentRow[]> {
  return db
    .select()
    .from(enrollments)
    .where(and(anyUuid(enrollments.id, ids), enrollmentVisibility(visibleTo)));
}

/**
 * Pages of the enrollments of many courses, in one statement: the roster (every status, by
 * default), or another list of them with its own sort (whose key keeps cursors apart) and the
 * active ones only (the gradebook).
 */
export function enrollmentsPageByCourses(
  db: Db,
  courseIds: string[],
  page: PageRequest,
  { sort = courseRosterSort, activeOnly = false }: { sort?: SortSpec<EnrollmentRow>; activeOnly?: boolean } = {},
) {
  return pagesByParent(
    db,
    enrollments,
    enrollments.courseId,
    (e: EnrollmentRow) => e.courseId,
    courseIds,
    sort,
    page,
    activeOnly ? eq(enrollments.status, 'ACTIVE') : undefined,
  );
}

export function enrollmentsPageByStudents(db: Db, viewer: Viewer, studentIds: string[], page: PageRequest) {
  return pagesByParent(
    db,
    enrollments,
    enrollments.studentId,
    (e: EnrollmentRow) => e.studentId,
    studentIds,
    studentEnrollmentSort,
    page,
    courseVisibleTo(viewer),
  );
}

export interface EnrollmentCounts {
  all: number;
  active: number;
}

async function countBy(
  db: Db,
  column: typeof enrollments.courseId | typeof enrollments.studentId,
  ids: string[],
  filter?: SQL,
) {
  const rows = await db
    .select({
      id: column,
      all: count(),
      active: sql<number>`count(*) filter (where ${enrollments.status} = 'ACTIVE')`.mapWith(Number),
    })
    .from(enrollments)
    .where(and(anyUuid(column, ids), filter))
    .groupBy(column);
  return new Map<string, EnrollmentCounts>(rows.map((r) => [r.id, { all: r.all, active: r.active }]));
}

/** `Course.enrollmentCount` and the like, for a page of courses: prepared (it is on the catalog). */
export async function countEnrollmentsByCourses(db: Db, courseIds: string[]): Promise<Map<string, EnrollmentCounts>> {
  const rows = await prepared(db, 'enrollment-counts-by-courses', () =>
    db
      .select({
        id: enrollments.courseId,
        all: count(),
        active: sql<number>`count(*) filter (where ${enrollments.status} = 'ACTIVE')`.mapWith(Number),
      })
      .from(enrollments)
      .where(anyUuidAt(enrollments.courseId, 'ids'))
      .groupBy(enrollments.courseId)
      .prepare('enrollment_counts_by_courses'),
  ).execute({ ids: courseIds });
  return new Map<string, EnrollmentCounts>(rows.map((r) => [r.id, { all: r.all, active: r.active }]));
}
export const countEnrollmentsByStudents = (db: Db, viewer: Viewer, studentIds: string[]) =>
  countBy(db, enrollments.studentId, studentIds, courseVisibleTo(viewer));

/** The viewer's enrollment per course: the ACTIVE one if any, else the most recent. */
export async function viewerEnrollmentsByCourses(
  db: Db,
  studentId: string,
  courseIds: string[],
): Promise<Map<string, EnrollmentRow>> {
  const rows = await db
    .selectDistinctOn([enrollments.courseId])
    .from(enrollments)
    .where(and(eq(enrollments.studentId, studentId), anyUuid(enrollments.courseId, courseIds)))
    .orderBy(enrollments.courseId, sql`(${enrollments.status} = 'ACTIVE') desc`, sql`${enrollments.enrolledAt} desc`);
  return new Map(rows.map((r) => [r.courseId, r]));
}

/**
 * The course's status under a row lock: an archive (which locks the row for update) either
 * committed before, and is seen here, or waits for the enrolling transaction. FOR NO KEY UPDATE
 * rather than FOR SHARE: the enrollment's insert updates the course's active-enrollment count
 * (a trigger), and share locks held by concurrent enrollments would deadlock on that upgrade.
 */
export async function lockCourseStatus(
  db: Db,
  courseId: string,
): Promise<{ status: CourseStatus; priceCents: number } | undefined> {
  const [row] = await db
    .select({ status: courses.status, priceCents: courses.priceCents })
    .from(courses)
    .where(eq(courses.id, courseId))
    .for('no key update');
  return row;
}

/** The student's active entitlement to the course (grants and revocations lock the course row too). */
export async function findActiveEntitlement(
  db: Db,
  studentId: string,
  courseId: string,
): Promise<EntitlementRow | undefined> {
  const [row] = await db
    .select()
    .from(entitlements)
    .where(
      and(eq(entitlements.studentId, studentId), eq(entitlements.courseId, courseId), isNull(entitlements.revokedAt)),
    );
  return row;
}

/** The student's active entitlements per course. */
export async function activeEntitlementsByCourses(
  db: Db,
  studentId: string,
  courseIds: string[],
): Promise<Map<string, EntitlementRow>> {
  const rows = await db
    .select()
    .from(entitlements)
    .where(
      and(
        eq(entitlements.studentId, studentId),
        anyUuid(entitlements.courseId, courseIds),
        isNull(entitlements.revokedAt),
      ),
    );
  return new Map(rows.map((r) => [r.courseId, r]));
}

/**
 * Flips the student's latest cancelled enrollment in the course back to ACTIVE; undefined when
 * there is none. `status = 'CANCELLED'` is re-checked after waiting on a concurrent
 * reactivation, so only one of them can flip the row.
 */
export async function reactivateLatestCancelled(
  db: Db,
  studentId: string,
  courseId: string,
): Promise<EnrollmentRow | undefined> {
  const latestCancelled = db
    .select({ id: enrollments.id })
    .from(enrollments)
    .where(
      and(
        eq(enrollments.studentId, studentId),
        eq(enrollments.courseId, courseId),
        eq(enrollments.status, 'CANCELLED'),
      ),
    )
    .orderBy(desc(enrollments.enrolledAt))
    .limit(1);
  const [row] = await db
    .update(enrollments)
    .set({ status: 'ACTIVE', enrolledAt: new Date(), cancelledAt: null })
    .where(and(eq(enrollments.id, sql`(${latestCancelled})`), eq(enrollments.status, 'CANCELLED')))
    .returning();
  return row;
}

export async function insertEnrollment(db: Db, studentId: string, courseId: string): Promise<EnrollmentRow> {
  const [row] = await db.insert(enrollments).values({ studentId, courseId }).returning();
  return row!;
}

/** Cancels the student's active enrollment in the course; undefined when there is none. */
export async function cancelActiveEnrollment(
  db: Db,
  studentId: string,
  courseId: string,
): Promise<EnrollmentRow | undefined> {
  const [row] = await db
    .update(enrollments)
    .set({ status: 'CANCELLED', cancelledAt: new Date() })
    .where(
      and(eq(enrollments.studentId, studentId), eq(enrollments.courseId, courseId), eq(enrollments.status, 'ACTIVE')),
    )
    .returning();
  return row;
}
