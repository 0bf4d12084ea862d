import type { RelationChecks } from '../../auth/auth.directive.js';
import { isSignedIn, requireSignedIn, type Viewer } from '../../auth/viewer.js';
import type { CourseRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';

/**
 * The one rule for "the viewer teaches this course": they are its instructor *and* still hold
 * the INSTRUCTOR role. An instructor demoted to STUDENT keeps the `instructorId` on their old
 * courses but none of what teaching grants (rosters, lesson content, writes, live events).
 * The `@auth` relation COURSE_INSTRUCTOR, writes (canManageCourse), visibility in SQL
 * (course.repository, enrollment.repository) and the lesson subscription all follow it.
 */
export function teachesCourse(viewer: Viewer, course: Pick<CourseRow, 'instructorId'> | null | undefined): boolean {
  return isSignedIn(viewer) && viewer.role === 'INSTRUCTOR' && course?.instructorId === viewer.userId;
}

export const courseRelationChecks: RelationChecks = {
  Course: { COURSE_INSTRUCTOR: (course: CourseRow, scope) => teachesCourse(scope.viewer, course) },
};

/**
 * `@auth(requires: [ADMIN], allow: [COURSE_INSTRUCTOR])` on a course's roster and statistics,
 * as a function: what `viewerCan.readEnrollments` and `viewerCan.readStats` answer.
 */
export function canReadCourseRoster(viewer: Viewer, course: Pick<CourseRow, 'instructorId'>): boolean {
  return viewer.role === 'ADMIN' || teachesCourse(viewer, course);
}

/** Why a course the viewer manages cannot be deleted now (null: it can). */
export function courseDeleteBlocker(activeEnrollments: number): AppError | null {
  return activeEnrollments > 0
    ? AppError.conflict(`The course has ${activeEnrollments} active enrollment(s); archive it instead`, {
        activeEnrollments,
      })
    : null;
}

/** The course's own instructor (still holding the INSTRUCTOR role) or any admin. */
export function canManageCourse(viewer: Viewer, course: Pick<CourseRow, 'instructorId'>): boolean {
  if (!isSignedIn(viewer)) return false;
  return viewer.role === 'ADMIN' || teachesCourse(viewer, course);
}

/**
 * Object-level rule for every write to a course and its lessons. `course` is what the viewer
 * can see (undefined when missing or hidden): hidden stays NOT_FOUND, so writes never reveal
 * that a course exists; visible-but-not-yours is FORBIDDEN.
 */
export function assertCanManageCourse(viewer: Viewer, course: CourseRow | null | undefined): CourseRow {
  requireSignedIn(viewer);
  if (!course) throw AppError.notFound('Course');
  if (!canManageCourse(viewer, course))
    throw AppError.forbidden("Only the course's instructor or an admin may do this");
  return course;
}
