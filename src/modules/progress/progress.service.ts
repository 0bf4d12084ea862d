import type { CourseRow, EnrollmentRow, LessonRow } from '../../db/schema.js';
import type { RequestScope } from '../../request-scope.js';
import { viewerStanding } from '../enrollments/index.js';
import { coursePermissions, lessonPermissions } from './progress.policy.js';
import type { CourseStatsData, ProgressData } from './progress.repository.js';
import type { CoursePermissions, LessonPermissions } from './progress.type.js';

/** Reads of progress, statistics and permissions, all batched through the request's loaders. */
export class ProgressService {
  /** An enrollment's progress: the student's marks on the course's counted lessons. */
  progressOf(scope: RequestScope, enrollment: EnrollmentRow): Promise<ProgressData> {
    return scope.loaders.progress.byCourseAndStudent.load(`${enrollment.courseId}|${enrollment.studentId}`);
  }

  viewerCompletedAt(scope: RequestScope, lesson: LessonRow): Promise<Date | null> {
    return scope.loaders.progress.viewerCompletedAt.load(lesson.id);
  }

  /** Field-guarded by `@auth` (the course's instructor and admins). */
  statsOf(scope: RequestScope, courseId: string): Promise<CourseStatsData> {
    return scope.loaders.progress.statsByCourse.load(courseId);
  }

  async courseCan(scope: RequestScope, course: CourseRow): Promise<CoursePermissions> {
    const [{ viewerEnrollment, entitled }, counts] = await Promise.all([
      viewerStanding(scope, course),
      scope.loaders.enrollments.countsByCourse.load(course.id),
    ]);
    return coursePermissions(scope.viewer, course, { viewerEnrollment, activeEnrollments: counts.active, entitled });
  }

  async lessonCan(scope: RequestScope, lesson: LessonRow): Promise<LessonPermissions> {
    const [course, viewerEnrollment] = await Promise.all([
      scope.loaders.courses.rowForPolicy.load(lesson.courseId),
      scope.loaders.enrollments.viewerByCourse.load(lesson.courseId),
    ]);
    if (!course) return { update: false, delete: false, readContent: false, markCompleted: false };
    return lessonPermissions(scope.viewer, course, lesson, viewerEnrollment);
  }
}
