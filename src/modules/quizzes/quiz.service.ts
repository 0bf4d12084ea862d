import { isSignedIn } from '../../auth/viewer.js';
import type { AttemptRow, EnrollmentRow, LessonRow, QuestionRow, QuizRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parsePage, toConnection, type Connection, type PageArgs } from '../../graphql/pagination.js';
import type { RequestScope } from '../../request-scope.js';
import { correctAnswerText, shuffledChoices } from './quiz.grading.js';
import { audienceOf, studentSeesAnswers, type QuizAudience } from './quiz.policy.js';
import { attemptSort, gradebookSort } from './quiz.repository.js';
import type { Question, QuestionResult } from './quiz.type.js';

export interface GradebookRowData {
  enrollment: EnrollmentRow;
}

/** Reads of quizzes and attempts, each deciding what this viewer may see (answers above all). */
export class QuizService {
  /** A quiz is visible wherever its lesson is. */
  async findVisible(scope: RequestScope, id: string): Promise<QuizRow | null> {
    const uuid = uuidOf('Quiz', id);
    const quiz = uuid ? await scope.loaders.quizzes.byId.load(uuid) : null;
    if (!quiz) return null;
    return (await scope.loaders.lessons.visibleById.load(quiz.lessonId)) ? quiz : null;
  }

  /** An attempt is visible to its student and to its course's instructor and admins. */
  async findVisibleAttempt(scope: RequestScope, id: string): Promise<AttemptRow | null> {
    const uuid = uuidOf('QuizAttempt', id);
    const attempt = uuid ? await scope.loaders.quizzes.attemptById.load(uuid) : null;
    if (!attempt) return null;
    if (attempt.studentId === scope.viewer.userId) return attempt;
    return (await this.audience(scope, attempt.courseId)) === 'STAFF' ? attempt : null;
  }

  ofLesson(scope: RequestScope, lesson: LessonRow): Promise<QuizRow[]> {
    return scope.loaders.quizzes.byLesson.load(lesson.id);
  }

  async lessonOf(scope: RequestScope, quiz: QuizRow): Promise<LessonRow> {
    const lesson = await scope.loaders.lessons.byId.load(quiz.lessonId);
    if (!lesson) throw AppError.notFound('Lesson');
    return lesson;
  }

  async quizOf(scope: RequestScope, attempt: AttemptRow): Promise<QuizRow> {
    const quiz = await scope.loaders.quizzes.byId.load(attempt.quizId);
    if (!quiz) throw AppError.notFound('Quiz');
    return quiz;
  }

  async audience(scope: RequestScope, courseId: string): Promise<QuizAudience> {
    if (!isSignedIn(scope.viewer)) return 'NONE';
    const [course, enrollment] = await Promise.all([
      scope.loaders.courses.rowForPolicy.load(courseId),
      scope.loaders.enrollments.viewerByCourse.load(courseId),
    ]);
    return audienceOf(scope.viewer, course, enrollment);
  }

  /** `Quiz.questions`: staff with answers, enrolled students without (unless the rules allow), others FORBIDDEN. */
  async questions(scope: RequestScope, quiz: QuizRow): Promise<Question[]> {
    const audience = await this.audience(scope, quiz.courseId);
    if (audience === 'NONE')
      throw AppError.forbidden(
        "Only the course's instructor, admins and actively enrolled students may read its questions",
      );
    const rows = await scope.loaders.quizzes.questionsByQuiz.load(quiz.id);
    if (audience === 'STAFF') return rows.map((q) => questionView(q, true, null));
    const own = await scope.loaders.quizzes.viewerAttempts.load(quiz.id);
    const reveal = studentSeesAnswers(quiz, own);
    // The order follows the viewer's latest attempt (the one they are taking, if any).
    const seed = own[0]?.id ?? `${scope.viewer.userId}:${quiz.id}`;
    return rows.map((q) => questionView(q, reveal, seed));
  }

  viewerAttempts(scope: RequestScope, quiz: QuizRow): Promise<AttemptRow[]> {
    return scope.loaders.quizzes.viewerAttempts.load(quiz.id);
  }

  async viewerBestPercent(scope: RequestScope, quiz: QuizRow): Promise<number | null> {
    const own = await scope.loaders.quizzes.viewerAttempts.load(quiz.id);
    const graded = own.filter((a) => a.status !== 'IN_PROGRESS' && a.scorePercent !== null);
    return graded.length ? Math.max(...graded.map((a) => a.scorePercent!)) : null;
  }

  /** `Quiz.attempts`: every student's, for the course's instructor and admins only. */
  async attempts(scope: RequestScope, quiz: QuizRow, args: PageArgs): Promise<Connection<AttemptRow>> {
    if ((await this.audience(scope, quiz.courseId)) !== 'STAFF')
      throw AppError.forbidden("Only the course's instructor and admins may read every attempt");
    const page = parsePage(attemptSort, args);
    const rows = await scope.loaders.quizzes.attemptsPage.load({ parentId: quiz.id, params: page });
    return toConnection(attemptSort, page, rows, () => scope.loaders.quizzes.attemptCount.load(quiz.id));
  }

  /** Per question, once graded: answers only for staff, or for the student as the rules allow. */
  async results(scope: RequestScope, attempt: AttemptRow): Promise<QuestionResult[] | null> {
    if (attempt.status === 'IN_PROGRESS' || !attempt.results) return null;
    const [quiz, rows] = await Promise.all([
      this.quizOf(scope, attempt),
      scope.loaders.quizzes.questionsByQuiz.load(attempt.quizId),
    ]);
    let reveal: boolean;
    let seed: string | null;
    if (attempt.studentId === scope.viewer.userId) {
      reveal = studentSeesAnswers(quiz, await scope.loaders.quizzes.viewerAttempts.load(quiz.id));
      seed = attempt.id;
    } else {
      reveal = (await this.audience(scope, attempt.courseId)) === 'STAFF';
      seed = null;
    }
    const byId = new Map<string, QuestionRow>(rows.map((q) => [q.id, q]));
    return attempt.results.flatMap((r) => {
      const q = byId.get(r.questionId);
      if (!q) return [];
      return [
        {
          question: questionView(q, reveal, seed),
          given: r.given,
          correct: r.correct,
          pointsAwarded: r.points,
          correctAnswer: reveal ? correctAnswerText(q) : null,
        },
      ];
    });
  }

  /** `Course.gradebook` (field-guarded: the course's instructor and admins). */
  async gradebook(scope: RequestScope, courseId: string, args: PageArgs): Promise<Connection<GradebookRowData>> {
    const page = parsePage(gradebookSort, args);
    const rows = await scope.loaders.quizzes.gradebookPage.load({ parentId: courseId, params: page });
    const connection = toConnection(
      gradebookSort,
      page,
      rows,
      async () => (await scope.loaders.enrollments.countsByCourse.load(courseId)).active,
    );
    return {
      ...connection,
      edges: connection.edges.map((e) => ({
        get cursor() {
          return e.cursor;
        },
        node: { enrollment: e.node },
      })),
      get totalCount() {
        return connection.totalCount;
      },
    };
  }

  /** Best percent per quiz of the course (lesson order); null where not attempted. */
  async bestPercents(scope: RequestScope, enrollment: EnrollmentRow): Promise<Array<number | null>> {
    const [quizzes, best] = await Promise.all([
      scope.loaders.quizzes.byCourse.load(enrollment.courseId),
      scope.loaders.quizzes.bestPercents.load(`${enrollment.courseId}|${enrollment.studentId}`),
    ]);
    return quizzes.map((q) => best.get(q.id) ?? null);
  }
}

/** A question as a viewer may see it: with or without answers, in authored or per-attempt order. */
function questionView(q: QuestionRow, reveal: boolean, seed: string | null): Question {
  const choices = seed ? shuffledChoices(q.choices, seed) : q.choices;
  return {
    id: q.id,
    kind: q.kind,
    prompt: q.prompt,
    points: q.points,
    position: q.position,
    choices: choices.map((c) => ({ id: c.id, text: c.text, correct: reveal ? c.correct : null })),
    acceptedAnswers: reveal ? (q.acceptedAnswers ?? null) : null,
    tolerance: q.tolerance,
  };
}
