import { isSignedIn, type Viewer } from '../../auth/viewer.js';
import type { CourseRow, EnrollmentRow, LessonRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { canManageCourse, canReadCourseRoster, courseDeleteBlocker } from '../courses/index.js';
import { checkoutRefusal, enrollRefusal, unenrollRefusal } from '../enrollments/index.js';
import { reviewRefusal } from '../reviews/index.js';
import { canReadLessonContent } from '../lessons/index.js';
import type { CoursePermissions, LessonPermissions } from './progress.type.js';

/**
 * Why the viewer may not mark (or unmark) this lesson completed; null when they may. Students
 * only (instructors and admins FORBIDDEN), actively enrolled (CONFLICT), lesson not CANCELLED
 * (BAD_USER_INPUT naming lessonId).
 */
export function completionRefusal(
  viewer: Viewer,
  lesson: Pick<LessonRow, 'status'>,
  viewerEnrollment: Pick<EnrollmentRow, 'status'> | null,
): AppError | null {
  if (!isSignedIn(viewer)) return AppError.unauthenticated();
  if (viewer.role !== 'STUDENT') return AppError.forbidden('Only students mark lessons completed');
  if (viewerEnrollment?.status !== 'ACTIVE') return AppError.conflict('Not actively enrolled in this course');
  if (lesson.status === 'CANCELLED') return AppError.badInput({ lessonId: 'is a CANCELLED lesson' });
  return null;
}

/** What the mutations on a course would decide now, from the same rules they enforce. */
export function coursePermissions(
  viewer: Viewer,
  course: CourseRow,
  facts: { viewerEnrollment: EnrollmentRow | null; activeEnrollments: number; entitled: boolean },
): CoursePermissions {
  const manage = canManageCourse(viewer, course);
  const roster = canReadCourseRoster(viewer, course);
  return {
    update: manage,
    publish: manage,
    archive: manage,
    delete: manage && courseDeleteBlocker(facts.activeEnrollments) === null,
    manageLessons: manage,
    enroll: enrollRefusal(viewer, course, facts.viewerEnrollment, facts.entitled) === null,
    purchase: checkoutRefusal(viewer, course, facts.viewerEnrollment, facts.entitled) === null,
    review: reviewRefusal(viewer, facts.viewerEnrollment) === null,
    unenroll: unenrollRefusal(viewer, facts.viewerEnrollment) === null,
    readEnrollments: roster,
    readStats: roster,
  };
}

export function lessonPermissions(
  viewer: Viewer,
  course: CourseRow,
  lesson: LessonRow,
  viewerEnrollment: EnrollmentRow | null,
): LessonPermissions {
  const manage = canManageCourse(viewer, course);
  return {
    update: manage,
    delete: manage,
    readContent: canReadLessonContent(viewer, course, viewerEnrollment),
    markCompleted: completionRefusal(viewer, lesson, viewerEnrollment) === null,
  };
}
