import { isSignedIn, type Viewer } from '../../auth/viewer.js';
import type { CourseRow, EnrollmentRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';

/**
 * Why the viewer cannot enroll in this (visible) course now; null when they can. `enroll`
 * throws it, `Course.viewerCan.enroll` is its absence.
 */
export function enrollRefusal(
  viewer: Viewer,
  course: Pick<CourseRow, 'status' | 'priceCents'>,
  viewerEnrollment: Pick<EnrollmentRow, 'status'> | null,
  /** The viewer holds an active entitlement to the course (a purchase or a grant). */
  entitled: boolean,
): AppError | null {
  if (!isSignedIn(viewer)) return AppError.unauthenticated();
  if (viewer.role !== 'STUDENT') return AppError.forbidden('Requires role STUDENT');
  if (course.status !== 'PUBLISHED')
    return AppError.conflict(`A ${course.status} course does not take enrollments`, { status: course.status });
  if (viewerEnrollment?.status === 'ACTIVE') return AppError.conflict('Already enrolled in this course');
  if (course.priceCents > 0 && !entitled)
    return new AppError('PAYMENT_REQUIRED', 'This course is paid: buy it (startCheckout) or ask for access first', {
      priceCents: course.priceCents,
    });
  return null;
}

/** Whether the viewer would have to pay to enroll: a paid course, a student, no entitlement. */
export function mustPurchase(viewer: Viewer, course: Pick<CourseRow, 'priceCents'>, entitled: boolean): boolean {
  return isSignedIn(viewer) && viewer.role === 'STUDENT' && course.priceCents > 0 && !entitled;
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
