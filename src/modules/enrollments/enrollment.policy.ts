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

/**
 * Why the viewer may not buy this (visible) course; null when they may: a student, not enrolled
 * and not entitled, in a PUBLISHED paid course. `startCheckout` throws it (before asking the
 * payment provider), `Course.viewerCan.purchase` is its absence.
 */
export function checkoutRefusal(
  viewer: Viewer,
  course: Pick<CourseRow, 'status' | 'priceCents'>,
  viewerEnrollment: Pick<EnrollmentRow, 'status'> | null,
  entitled: boolean,
): AppError | null {
  if (!isSignedIn(viewer)) return AppError.unauthenticated();
  if (viewer.role !== 'STUDENT') return AppError.forbidden('Requires role STUDENT');
  if (course.status !== 'PUBLISHED')
    return AppError.conflict(`A ${course.status} course is not for sale`, { status: course.status });
  if (course.priceCents === 0) return AppError.conflict('This course is free: enroll directly');
  if (viewerEnrollment?.status === 'ACTIVE') return AppError.conflict('Already enrolled in this course');
  if (entitled) return AppError.conflict('Already entitled to this course: enroll directly');
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
