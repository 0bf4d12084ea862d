import { isSignedIn, type Viewer } from '../../auth/viewer.js';
import type { AttemptRow, CourseRow, EnrollmentRow, QuizRow } from '../../db/schema.js';
import { canManageCourse } from '../courses/index.js';

/**
 * Who a viewer is to a quiz: its course's staff (instructor or admin: everything, answers
 * included), an actively enrolled student (questions without answers, own attempts), or
 * nobody (the quiz's settings only, like its lesson).
 */
export type QuizAudience = 'STAFF' | 'STUDENT' | 'NONE';

export function audienceOf(
  viewer: Viewer,
  course: Pick<CourseRow, 'instructorId'> | null,
  enrollment: EnrollmentRow | null,
): QuizAudience {
  if (course && canManageCourse(viewer, course)) return 'STAFF';
  if (isSignedIn(viewer) && enrollment?.status === 'ACTIVE' && enrollment.studentId === viewer.userId) return 'STUDENT';
  return 'NONE';
}

/**
 * Whether a student may see a quiz's correct answers: only with revealAnswers, only once one
 * of their attempts was graded, and never while another attempt is open (answers shown after
 * attempt 1 must not help with attempt 2 in progress).
 */
export function studentSeesAnswers(quiz: Pick<QuizRow, 'revealAnswers'>, ownAttempts: AttemptRow[]): boolean {
  return (
    quiz.revealAnswers &&
    ownAttempts.some((a) => a.status !== 'IN_PROGRESS') &&
    !ownAttempts.some((a) => a.status === 'IN_PROGRESS')
  );
}
