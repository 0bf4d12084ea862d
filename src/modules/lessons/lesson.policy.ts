import type { RelationChecks } from '../../auth/auth.directive.js';
import type { LessonRow } from '../../db/schema.js';
import { teachesCourse } from '../courses/index.js';

/** Lesson fields follow the lesson's course: its instructor, and its actively enrolled students. */
export const lessonRelationChecks: RelationChecks = {
  Lesson: {
    COURSE_INSTRUCTOR: async (lesson: LessonRow, scope) =>
      scope.viewer.role === 'INSTRUCTOR' && teachesCourse(scope.viewer, await scope.loaders.courses.byId.load(lesson.courseId)),
    ENROLLED_STUDENT: async (lesson: LessonRow, scope) =>
      (await scope.loaders.enrollments.viewerByCourse.load(lesson.courseId))?.status === 'ACTIVE',
  },
};
