import { requireSignedIn } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import type { LessonRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { touched, type RequestScope } from '../../request-scope.js';
import type { Emits } from '../../util/after-commit.js';
import { completionRefusal } from './progress.policy.js';
import { deleteCompletion, insertCompletion } from './progress.repository.js';

/** What completion-mark writes announce after they commit (see util/after-commit.ts). */
export interface ProgressCommitEvents {
  /** A course's marks changed: its live statistics follow. */
  courseActivity: { courseId: string };
}

/** Completion marks: the viewer's own, on lessons of courses they are actively enrolled in. */
export class ProgressCommands {
  constructor(
    private readonly db: Db,
    /** Announces, after commit, that a course's marks changed (`courseActivity`). */
    private readonly afterCommit: Emits<ProgressCommitEvents>,
    /**
     * Runs in a new mark's transaction (so a crash cannot separate the mark from what it
     * caused): the assessment module records a course completion there.
     */
    private readonly onMarked?: (tx: Db, courseId: string, studentId: string) => Promise<void>,
  ) {}

  /** Idempotent: a second mark keeps the first completedAt. */
  mark(scope: RequestScope, lessonId: string): Promise<LessonRow> {
    return this.write(scope, lessonId, insertCompletion);
  }

  unmark(scope: RequestScope, lessonId: string): Promise<LessonRow> {
    return this.write(scope, lessonId, deleteCompletion);
  }

  private async write(
    scope: RequestScope,
    lessonId: string,
    apply: (db: Db, studentId: string, lessonId: string) => Promise<boolean>,
  ): Promise<LessonRow> {
    const viewer = requireSignedIn(scope.viewer);
    const uuid = uuidOf('Lesson', lessonId);
    const lesson = uuid ? await scope.loaders.lessons.visibleById.load(uuid) : null;
    if (!lesson) throw AppError.notFound('Lesson');
    const enrollment = await scope.loaders.enrollments.viewerByCourse.load(lesson.courseId);
    const refusal = completionRefusal(viewer, lesson, enrollment);
    if (refusal) throw refusal;
    // The statement re-checks both conditions atomically; if they stopped holding since the
    // loaders read them, the fresh rows say why.
    const applied = await transaction(this.db, scope, async (tx) => {
      if (!(await apply(tx, viewer.userId, lesson.id))) return false;
      if (apply === insertCompletion) await this.onMarked?.(tx, lesson.courseId, viewer.userId);
      return true;
    });
    if (!applied) {
      const fresh = {
        status: (await scope.loaders.lessons.byId.clear(lesson.id).load(lesson.id))?.status ?? 'CANCELLED',
      };
      const nowEnrolled = await scope.loaders.enrollments.viewerByCourse.clear(lesson.courseId).load(lesson.courseId);
      throw (
        completionRefusal(viewer, fresh, nowEnrolled) ??
        AppError.conflict('The lesson or the enrollment changed meanwhile')
      );
    }
    scope.loaders.progress.viewerCompletedAt.clear(lesson.id);
    // The lesson's viewerCompletedAt, the student's progress (on rosters tagged by course) and
    // the course's statistics.
    touched(
      scope,
      `Lesson:${lesson.id}`,
      `Course:${lesson.courseId}`,
      `Viewer:${viewer.userId}`,
      `User:${viewer.userId}`,
    );
    await this.afterCommit.emit('courseActivity', { courseId: lesson.courseId });
    return lesson;
  }
}
