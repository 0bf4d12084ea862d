import type { RelationChecks } from '../../auth/auth.directive.js';
import type { CourseRow } from '../../db/schema.js';

export const courseRelationChecks: RelationChecks = {
  Course: { COURSE_INSTRUCTOR: (course: CourseRow, scope) => course.instructorId === scope.viewer.userId },
};
