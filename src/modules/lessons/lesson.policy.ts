import type { RelationChecks } from '../../auth/auth.directive.js';
import type { Viewer } from '../../auth/viewer.js';
import type { CourseRow, EnrollmentRow, LessonRow } from '../../db/schema.js';
import { teachesCourse } from '../courses/index.js';

/** Lesson fields follow the lesson's course: its instructor, and its actively enrolled students. */
/**
 * Who may read a lesson's content: `@auth(requires: [ADMIN], allow: [COURSE_INSTRUCTOR,
 * ENROLLED_STUDENT])` as a function of what the checks below load.
 */
export function canReadLessonContent(
  viewer: Viewer,
  course: Pick<CourseRow, 'instructorId'>,
  viewerEnrollment: Pick<EnrollmentRow, 'status'> | null,
): boolean {
  return viewer.role === 'ADMIN' || teachesCourse(viewer, course) || viewerEnrollment?.status === 'ACTIVE';
}

export const lessonRelationChecks: RelationChecks = {
  Lesson: {
    COURSE_INSTRUCTOR: async (lesson: LessonRow, scope) =>
      scope.viewer.role === 'INSTRUCTOR' &&
      teachesCourse(scope.viewer, await scope.loaders.courses.rowForPolicy.load(lesson.courseId)),
    ENROLLED_STUDENT: async (lesson: LessonRow, scope) =>
      (await scope.loaders.enrollments.viewerByCourse.load(lesson.courseId))?.status === 'ACTIVE',
  },
};
