import { isSignedIn, type Viewer } from '../../auth/viewer.js';
import type { CourseRow, EnrollmentRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';

/**
 * Why the viewer cannot enroll in this (visible) course now; null when they can. `enroll`
 * throws it, `Course.viewerCan.enroll` is its absence.
 */
export function enrollRefusal(
  viewer: Viewer,
  course: Pick<CourseRow, 'status'>,
  viewerEnrollment: Pick<EnrollmentRow, 'status'> | null,
): AppError | null {
  if (!isSignedIn(viewer)) return AppError.unauthenticated();
  if (viewer.role !== 'STUDENT') return AppError.forbidden('Requires role STUDENT');
  if (course.status !== 'PUBLISHED')
    return AppError.conflict(`A ${course.status} course does not take enrollments`, { status: course.status });
  if (viewerEnrollment?.status === 'ACTIVE') return AppError.conflict('Already enrolled in this course');
  return null;
}

/** Why the viewer cannot unenroll from the course; null when they can. */
export function unenrollRefusal(
  viewer: Viewer,
  viewerEnrollment: Pick<EnrollmentRow, 'status'> | null,
): AppError | null {
  if (!isSignedIn(viewer)) return AppError.unauthenticated();
  if (viewerEnrollment?.status !== 'ACTIVE') return AppError.notFound('Active enrollment');
  return null;
}
