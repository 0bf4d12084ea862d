import { isSignedIn } from '../../auth/viewer.js';
import type { EntitlementRow } from '../../db/schema.js';
import { uuidOf } from '../../graphql/global-id.js';
import type { RequestScope } from '../../request-scope.js';
import { canManageCourse } from '../courses/index.js';

/** Reads of entitlements: the student's own, and those of a course for its instructor and admins. */
export class EntitlementService {
  /** `Course.viewerEntitlement`: one statement for a page of courses (the enrollments loader). */
  viewerEntitlement(scope: RequestScope, courseId: string): Promise<EntitlementRow | null> {
    return scope.loaders.enrollments.viewerEntitlementByCourse.load(courseId);
  }

  /** `node(id:)`: the student it belongs to, the course's instructor and admins. */
  async findVisible(scope: RequestScope, id: string): Promise<EntitlementRow | null> {
    const uuid = uuidOf('Entitlement', id);
    if (!uuid || !isSignedIn(scope.viewer)) return null;
    const row = await scope.loaders.entitlements.byId.load(uuid);
    if (!row) return null;
    if (row.studentId === scope.viewer.userId) return row;
    const course = await scope.loaders.courses.rowForPolicy.load(row.courseId);
    return course && canManageCourse(scope.viewer, course) ? row : null;
  }
}
