import { isSignedIn, type Viewer } from '../../auth/viewer.js';
import type { CourseRow, EnrollmentRow, ReviewRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { teachesCourse } from '../courses/index.js';

/**
 * Why the viewer may not write (or rewrite) a review of this visible course; null when they
 * may: students who are or were enrolled (any status). `writeReview` throws it,
 * `viewerCan.review` is its absence.
 */
export function reviewRefusal(viewer: Viewer, viewerEnrollment: Pick<EnrollmentRow, 'status'> | null): AppError | null {
  if (!isSignedIn(viewer)) return AppError.unauthenticated();
  if (viewer.role !== 'STUDENT') return AppError.forbidden('Only students review courses');
  if (!viewerEnrollment)
    return AppError.forbidden('Only students who are or were enrolled in the course may review it');
  return null;
}

/** Its author and admins delete a review. */
export function canDeleteReview(viewer: Viewer, review: Pick<ReviewRow, 'authorId'>): boolean {
  return viewer.role === 'ADMIN' || (isSignedIn(viewer) && viewer.userId === review.authorId);
}

/** The course's instructor (still teaching it) replies. */
export function canReplyToReview(viewer: Viewer, course: Pick<CourseRow, 'instructorId'>): boolean {
  return teachesCourse(viewer, course);
}
