import { requireSignedIn } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import type { AttemptRow, QuizRow } from '../../db/schema.js';
import { AppError, type FieldErrors } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { createOnce, inputFingerprint } from '../../idempotency/idempotency.repository.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import { touched, type RequestScope } from '../../request-scope.js';
import type { Emits } from '../../util/after-commit.js';
import type { CourseCommands } from '../courses/index.js';
import { gradeAttempt } from './attempt.grader.js';
import { recordCompletionsOfCourse } from './completion.repository.js';
import type { CreateQuizInput, SaveAnswersInput, UpdateQuizInput } from './quiz.inputs.js';
import {
  attemptsForStart,
  countedByCertificate,
  deleteQuizRow,
  hasGradedAttempt,
  insertAttempt,
  insertQuiz,
  lockActiveEnrollment,
  lockAttempt,
  lockQuiz,
  lockQuizForGrading,
  mergeAnswers,
  questionsOf,
  replaceQuestions,
  updateQuizSettings,
} from './quiz.repository.js';
import type { QuizThrottle } from './quiz.throttle.js';
import { validateAnswers, validateQuestions, validateSettings } from './quiz.validation.js';

/** What quiz writes announce after they commit (see util/after-commit.ts). */
export interface QuizCommitEvents {
  /** An attempt was graded (submitted or expired): the course's live feeds follow. */
  quizAttemptGraded: { attemptId: string; courseId: string };
  courseActivity: { courseId: string };
}

const notEnrolled = () => AppError.forbidden('Only students actively enrolled in the course may take its quizzes');

/** Authoring (the course's instructor and admins) and taking (enrolled students) of quizzes. */
export class QuizCommands {
  constructor(
    private readonly db: Db,
    private readonly courseCommands: CourseCommands,
    private readonly throttle: QuizThrottle,
    private readonly afterCommit: Emits<QuizCommitEvents>,
  ) {}

  /**
   * With a `clientMutationId`, a retry (same viewer, same id and input, within a day) returns
   * the quiz the first attempt made, even when that attempt's answer was lost.
   */
  async create(scope: RequestScope, input: CreateQuizInput): Promise<QuizRow> {
    const viewer = requireSignedIn(scope.viewer);
    const errors: FieldErrors = {};
    const settings = validateSettings(input, errors, true);
    const drafts = validateQuestions(input.questions, errors);
    const lessonId = uuidOf('Lesson', input.lessonId);
    if (!lessonId) errors['input.lessonId'] = 'is not a lesson ID';
    const clientMutationId = input.clientMutationId?.trim();
    if (input.clientMutationId != null && (!clientMutationId || clientMutationId.length > 200))
      errors['input.clientMutationId'] = 'must be 1 to 200 characters';
    if (Object.keys(errors).length) throw AppError.badInput(errors);
    const lesson = await scope.loaders.lessons.visibleById.load(lessonId!);
    if (!lesson) throw AppError.notFound('Lesson');
    const key = clientMutationId
      ? {
          userId: viewer.userId,
          operation: 'createQuiz',
          key: clientMutationId,
          // The input as sent: drafts carry fresh choice ids.
          fingerprint: inputFingerprint({ ...input, clientMutationId: null }),
        }
      : null;
    // Under the course's row lock: two attempts with one key run one at a time.
    return this.courseCommands.withManageableCourse(scope, lesson.courseId, async (tx) => {
      const { row } = await createOnce(tx, key, 'quiz', {
        find: (id) => lockQuiz(tx, id),
        legacy: () => false,
        create: () =>
          insertQuiz(
            tx,
            { ...settings, title: settings.title!, courseId: lesson.courseId, lessonId: lesson.id },
            drafts,
          ),
      });
      return row;
    });
  }

  async update(scope: RequestScope, input: UpdateQuizInput): Promise<QuizRow> {
    requireSignedIn(scope.viewer);
    const errors: FieldErrors = {};
    const settings = validateSettings(input, errors, false);
    const drafts = input.questions != null ? validateQuestions(input.questions, errors) : null;
    if (Object.keys(errors).length) throw AppError.badInput(errors);
    const quiz = await this.visibleQuiz(scope, input.id);
    // A required quiz made optional may complete the course for students who did everything else.
    const mayComplete = settings.required === false;
    const updated = await this.courseCommands.withManageableCourse(scope, quiz.courseId, async (tx) => {
      if (!(await lockQuiz(tx, quiz.id))) throw AppError.notFound('Quiz');
      if (drafts) {
        if (await hasGradedAttempt(tx, quiz.id))
          throw AppError.conflict(
            'The quiz has graded attempts: its questions cannot change any more; copy it instead',
          );
        await replaceQuestions(tx, quiz.id, drafts);
      }
      await updateQuizSettings(tx, quiz.id, settings);
      if (mayComplete) await recordCompletionsOfCourse(tx, quiz.courseId);
      return (await lockQuiz(tx, quiz.id))!;
    });
    scope.loaders.quizzes.byId.clear(quiz.id);
    scope.loaders.quizzes.questionsByQuiz.clear(quiz.id);
    touched(scope, `Quiz:${quiz.id}`);
    return updated;
  }

  async delete(scope: RequestScope, id: string): Promise<string> {
    requireSignedIn(scope.viewer);
    const quiz = await this.visibleQuiz(scope, id);
    await this.courseCommands.withManageableCourse(scope, quiz.courseId, async (tx) => {
      const locked = await lockQuiz(tx, quiz.id);
      if (!locked) throw AppError.notFound('Quiz');
      if (await countedByCertificate(tx, locked))
        throw AppError.conflict('A certificate counted this quiz; it cannot be deleted');
      await deleteQuizRow(tx, quiz.id);
      // Deleting a required quiz may complete the course for students who did everything else.
      if (locked.required) await recordCompletionsOfCourse(tx, quiz.courseId);
    });
    touched(scope, `Quiz:${quiz.id}`);
    return id;
  }

  /**
   * The viewer's attempt in progress, or a new one. Everything runs under the student's
   * enrollment row lock, so two parallel starts make one attempt and maxAttempts holds.
   */
  async start(scope: RequestScope, quizId: string): Promise<AttemptRow> {
    const viewer = requireSignedIn(scope.viewer);
    const quiz = await this.visibleQuiz(scope, quizId);
    await this.throttle.reserve(viewer.userId);
    const outcome = await transaction(this.db, scope, async (tx) => {
      const enrollment = await lockActiveEnrollment(tx, quiz.courseId, viewer.userId);
      if (!enrollment) throw notEnrolled();
      const current = await lockQuizForGrading(tx, quiz.id);
      if (!current) throw AppError.notFound('Quiz');
      const attempts = await attemptsForStart(tx, quiz.id, viewer.userId);
      const open = attempts.find((a) => a.status === 'IN_PROGRESS');
      let expired: AttemptRow | undefined;
      if (open && !open.overdue) return { attempt: open as AttemptRow, expired };
      // An attempt left open past its deadline (its job not run yet) is graded now, and counts.
      if (open) expired = (await gradeAttempt(tx, open, 'EXPIRED', enrollment))?.attempt;
      if (current.maxAttempts !== null && attempts.length >= current.maxAttempts) return { attempt: null, expired };
      const attempt = await insertAttempt(tx, current, viewer.userId, (attempts[0]?.number ?? 0) + 1);
      if (attempt.deadline)
        await appendToOutbox(tx, {
          type: 'quiz.attempt-started',
          attemptId: attempt.id,
          deadline: attempt.deadline.toISOString(),
          occurredAt: attempt.startedAt.toISOString(),
        });
      return { attempt, expired };
    });
    if (outcome.expired) await this.graded(scope, outcome.expired);
    touched(scope, `Quiz:${quiz.id}`);
    if (!outcome.attempt)
      throw AppError.conflict(`All ${quiz.maxAttempts} attempts at this quiz are used up`, {
        maxAttempts: quiz.maxAttempts,
      });
    return outcome.attempt;
  }

  /** Replaces the saved answers of the listed questions; nothing here depends on correctness. */
  async save(scope: RequestScope, input: SaveAnswersInput): Promise<AttemptRow> {
    const { attempt } = await this.write(scope, input, 'save');
    return attempt;
  }

  /**
   * Grades the attempt with its saved answers plus these. A graded (SUBMITTED) attempt is
   * returned unchanged; past the deadline and its grace: the attempt is graded EXPIRED with
   * what was saved before, and the submission refused with CONFLICT.
   */
  async submit(scope: RequestScope, input: SaveAnswersInput): Promise<AttemptRow> {
    const viewer = requireSignedIn(scope.viewer);
    const own = await this.ownAttempt(scope, input.attemptId);
    if (own.status === 'SUBMITTED') return own;
    await this.throttle.reserve(viewer.userId);
    const { attempt } = await this.write(scope, input, 'submit');
    return attempt;
  }

  private async write(
    scope: RequestScope,
    input: SaveAnswersInput,
    mode: 'save' | 'submit',
  ): Promise<{ attempt: AttemptRow }> {
    const viewer = requireSignedIn(scope.viewer);
    const own = await this.ownAttempt(scope, input.attemptId);
    const outcome = await transaction(this.db, scope, async (tx) => {
      const enrollment = await lockActiveEnrollment(tx, own.courseId, viewer.userId);
      if (!enrollment) throw notEnrolled();
      if (!(await lockQuizForGrading(tx, own.quizId))) throw AppError.notFound('Quiz');
      const attempt = await lockAttempt(tx, own.id);
      if (!attempt) throw AppError.notFound('QuizAttempt');
      if (attempt.status === 'SUBMITTED' && mode === 'submit') return { attempt, late: false, graded: false };
      if (attempt.status !== 'IN_PROGRESS') return { attempt, late: true, graded: false };
      if (attempt.overdue) {
        // Graded with what was saved before the deadline; this request's answers are refused.
        const expired = await gradeAttempt(tx, attempt, 'EXPIRED', enrollment);
        return { attempt: expired?.attempt ?? attempt, late: true, graded: !!expired };
      }
      const answers = Object.fromEntries(validateAnswers(input.answers, await questionsOf(tx, attempt.quizId)));
      if (mode === 'save') {
        const saved = await mergeAnswers(tx, attempt.id, answers);
        return { attempt: saved ?? attempt, late: !saved, graded: false };
      }
      const submitted = await gradeAttempt(tx, attempt, 'SUBMITTED', enrollment, { ...attempt.answers, ...answers });
      return { attempt: submitted?.attempt ?? attempt, late: false, graded: !!submitted };
    });
    scope.loaders.quizzes.attemptById.clear(own.id);
    scope.loaders.quizzes.viewerAttempts.clear(own.quizId);
    if (outcome.graded) await this.graded(scope, outcome.attempt);
    if (outcome.late)
      throw AppError.conflict(
        outcome.attempt.status === 'EXPIRED'
          ? 'The attempt is past its deadline: it was graded EXPIRED with the answers saved before'
          : 'The attempt was already submitted',
        { attemptStatus: outcome.attempt.status },
      );
    return { attempt: outcome.attempt };
  }

  private async graded(scope: RequestScope, attempt: AttemptRow): Promise<void> {
    touched(
      scope,
      `Quiz:${attempt.quizId}`,
      `Course:${attempt.courseId}`,
      `Viewer:${attempt.studentId}`,
      `User:${attempt.studentId}`,
    );
    await this.afterCommit.emit('quizAttemptGraded', { attemptId: attempt.id, courseId: attempt.courseId });
    await this.afterCommit.emit('courseActivity', { courseId: attempt.courseId });
  }

  /** The viewer's own attempt; anyone else's is NOT_FOUND (never FORBIDDEN: nothing is revealed). */
  private async ownAttempt(scope: RequestScope, id: string): Promise<AttemptRow> {
    const uuid = uuidOf('QuizAttempt', id);
    const attempt = uuid ? await scope.loaders.quizzes.attemptById.load(uuid) : null;
    if (!attempt || attempt.studentId !== scope.viewer.userId) throw AppError.notFound('QuizAttempt');
    return attempt;
  }

  private async visibleQuiz(scope: RequestScope, id: string): Promise<QuizRow> {
    const uuid = uuidOf('Quiz', id);
    const quiz = uuid ? await scope.loaders.quizzes.byId.load(uuid) : null;
    if (!quiz || !(await scope.loaders.lessons.visibleById.load(quiz.lessonId))) throw AppError.notFound('Quiz');
    return quiz;
  }
}
