import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import type { AttemptRow, EnrollmentRow, QuestionRow, QuizRow } from '../../db/schema.js';
import { groupedLoader, rowLoader } from '../../graphql/loader-utils.js';
import { pageKey, type PageRequest } from '../../graphql/pagination.js';
import { enrollmentsPageByCourses } from '../enrollments/index.js';
import {
  attemptsOfStudent,
  attemptsPageByQuizzes,
  bestPercentsOfPairs,
  completionOfPairs,
  countAttemptsByQuizzes,
  findAttemptsByIds,
  findQuizzesByIds,
  questionsByQuizzes,
  quizStatsOfCourses,
  quizzesByCourses,
  quizzesByLessons,
  gradebookSort,
  type CompletionData,
  type QuizStatsData,
} from './quiz.repository.js';

const pairsOf = (keys: readonly string[]) =>
  keys.map((k) => {
    const [courseId, studentId] = k.split('|') as [string, string];
    return { courseId, studentId };
  });

const listLoader = <V>(fetch: (ids: string[]) => Promise<Map<string, V[]>>) =>
  new DataLoader<string, V[]>(async (ids) => {
    const found = await fetch([...ids]);
    return ids.map((id) => found.get(id) ?? []);
  });

/** Rows by key without visibility: services decide who may see what (quiz.policy.ts). */
export function createQuizLoaders(db: Db, viewer: Viewer) {
  return {
    byId: rowLoader<QuizRow>(
      (ids) => findQuizzesByIds(db, ids),
      (q) => q.id,
    ),
    byLesson: listLoader((ids) => quizzesByLessons(db, ids)),
    /** A course's quizzes in lesson order: the gradebook's columns. */
    byCourse: listLoader((ids) => quizzesByCourses(db, ids)),
    questionsByQuiz: listLoader<QuestionRow>((ids) => questionsByQuizzes(db, ids)),
    attemptById: rowLoader<AttemptRow>(
      (ids) => findAttemptsByIds(db, ids),
      (a) => a.id,
    ),
    /** The signed-in viewer's own attempts per quiz, newest first (none for anonymous viewers). */
    viewerAttempts: new DataLoader<string, AttemptRow[]>(async (quizIds) => {
      if (!viewer.userId) return quizIds.map(() => []);
      const found = await attemptsOfStudent(db, viewer.userId, [...quizIds]);
      return quizIds.map((id) => found.get(id) ?? []);
    }),
    attemptsPage: groupedLoader<PageRequest, AttemptRow[]>(
      (ids, page) => attemptsPageByQuizzes(db, ids, page),
      pageKey,
      () => [],
    ),
    gradebookPage: groupedLoader<PageRequest, EnrollmentRow[]>(
      (ids, page) => enrollmentsPageByCourses(db, ids, page, { sort: gradebookSort, activeOnly: true }),
      pageKey,
      () => [],
    ),
    attemptCount: new DataLoader<string, number>(async (ids) => {
      const found = await countAttemptsByQuizzes(db, [...ids]);
      return ids.map((id) => found.get(id) ?? 0);
    }),
    /** Keys "courseId|studentId": best percent per quiz id. */
    bestPercents: new DataLoader<string, Map<string, number>>(async (keys) => {
      const found = await bestPercentsOfPairs(db, pairsOf(keys));
      return keys.map((k) => found.get(k) ?? new Map());
    }),
    /** Keys "courseId|studentId". */
    completion: new DataLoader<string, CompletionData>(async (keys) => {
      const found = await completionOfPairs(db, pairsOf(keys));
      return keys.map(
        (k) => found.get(k) ?? { requiredQuizzes: 0, passedRequiredQuizzes: 0, completed: false, completedAt: null },
      );
    }),
    statsByCourse: new DataLoader<string, QuizStatsData>(async (ids) => {
      const found = await quizStatsOfCourses(db, [...ids]);
      return ids.map((id) => found.get(id) ?? { averageQuizPercent: null, certificatesIssued: 0 });
    }),
  };
}
