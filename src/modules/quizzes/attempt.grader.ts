import type { Db } from '../../db/client.js';
import type { AttemptRow, EnrollmentRow } from '../../db/schema.js';
import { grade } from './quiz.grading.js';
import { lockQuizForGrading, questionsOf, recordCompletionIfDone, storeGrade } from './quiz.repository.js';
import type { StoredAnswer } from './quiz.table.js';

export interface Graded {
  attempt: AttemptRow;
  /** This grading completed the course (its certificate event is in the outbox). */
  completedCourse: boolean;
}

/**
 * Grades an attempt still IN_PROGRESS inside the caller's transaction, which holds the
 * student's enrollment lock when there is one (`enrollment`; none once unenrolled: an expired
 * attempt of a former student is graded but completes nothing). Returns undefined when the
 * attempt was graded meanwhile. Used by submissions, late submissions, the expiry job and the
 * sweep alike, so every path grades by the same rules.
 */
export async function gradeAttempt(
  tx: Db,
  attempt: AttemptRow,
  status: 'SUBMITTED' | 'EXPIRED',
  enrollment: EnrollmentRow | undefined,
  answers: Record<string, StoredAnswer> = attempt.answers,
): Promise<Graded | undefined> {
  const quiz = await lockQuizForGrading(tx, attempt.quizId);
  if (!quiz) return undefined;
  const questions = await questionsOf(tx, attempt.quizId);
  const stored = await storeGrade(tx, attempt.id, status, grade(quiz, questions, answers), answers);
  if (!stored) return undefined;
  const completedCourse = stored.passed && enrollment ? await recordCompletionIfDone(tx, enrollment) : false;
  return { attempt: stored, completedCourse };
}
