import type { RequestScope } from '../../request-scope.js';
import type { CourseRow, EnrollmentRow } from '../../db/schema.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parsePage, toConnection, type Connection, type PageArgs } from '../../graphql/pagination.js';
import { courseRosterSort, studentEnrollmentSort } from './enrollment.repository.js';

/**
 * What the enroll and purchase rules ask of the viewer and a visible course: their enrollment
 * and, for a paid course only, whether they hold an active entitlement (batched loads).
 */
export async function viewerStanding(
  scope: RequestScope,
  course: Pick<CourseRow, 'id' | 'priceCents'>,
): Promise<{ viewerEnrollment: EnrollmentRow | null; entitled: boolean }> {
  const [viewerEnrollment, entitlement] = await Promise.all([
    scope.loaders.enrollments.viewerByCourse.load(course.id),
    course.priceCents > 0 ? scope.loaders.enrollments.viewerEntitlementByCourse.load(course.id) : null,
  ]);
  return { viewerEnrollment, entitled: entitlement !== null };
}

export class EnrollmentService {
  /** An enrollment the viewer may see (their own, or in a course they teach; admins all). */
  async findVisible(scope: RequestScope, id: string): Promise<EnrollmentRow | null> {
    const uuid = uuidOf('Enrollment', id);
    return uuid ? scope.loaders.enrollments.visibleById.load(uuid) : null;
  }

  /** `Course.enrollments` (field-guarded: the course's instructor and admins). */
  async ofCourse(scope: RequestScope, courseId: string, args: PageArgs): Promise<Connection<EnrollmentRow>> {
    const page = parsePage(courseRosterSort, args);
    const rows = await scope.loaders.enrollments.pageByCourse.load({ parentId: courseId, params: page });
    return toConnection(
      courseRosterSort,
      page,
      rows,
      async () => (await scope.loaders.enrollments.countsByCourse.load(courseId)).all,
    );
  }

  /** `User.enrollments` (field-guarded: the user themself and admins). */
  async ofStudent(scope: RequestScope, studentId: string, args: PageArgs): Promise<Connection<EnrollmentRow>> {
    const page = parsePage(studentEnrollmentSort, args);
    const rows = await scope.loaders.enrollments.pageByStudent.load({ parentId: studentId, params: page });
    return toConnection(
      studentEnrollmentSort,
      page,
      rows,
      async () => (await scope.loaders.enrollments.countsByStudent.load(studentId)).all,
    );
  }

  /** `Course.enrollmentCount`: active enrollments. */
  async activeCountOfCourse(scope: RequestScope, courseId: string): Promise<number> {
    return (await scope.loaders.enrollments.countsByCourse.load(courseId)).active;
  }

  async viewerEnrollment(scope: RequestScope, courseId: string): Promise<EnrollmentRow | null> {
    return scope.loaders.enrollments.viewerByCourse.load(courseId);
  }
}
