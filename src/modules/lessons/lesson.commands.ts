import { requireSignedIn } from '../../auth/viewer.js';
import type { RequestScope } from '../../request-scope.js';
import type { Db } from '../../db/client.js';
import type { LessonRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parseInput } from '../../graphql/validation.js';
import type { Emits } from '../../util/after-commit.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import {
  assertSameInput,
  inputFingerprint,
  rememberEntity,
  rememberedEntity,
} from '../../idempotency/idempotency.repository.js';
import type { CourseCommands } from '../courses/index.js';
import { LessonEvents, type LessonStatusChangedEvent } from './lesson.events.js';
import {
  clampPosition,
  closeLessonSlot,
  findSection,
  lessonCountInCourse,
  lessonCountInGroup,
  openLessonSlot,
  placeLesson,
  sectionRankOf,
} from './curriculum.repository.js';
import { deleteLesson, findLesson, insertLesson, updateLesson } from './lesson.repository.js';
import {
  createLessonSchema,
  updateLessonSchema,
  type CreateLessonInput,
  type UpdateLessonInput,
} from './lesson.inputs.js';

/** Lessons a course may hold (each section's positions must stay below CURRICULUM_STRIDE). */
const MAX_LESSONS_PER_COURSE = 10_000;

/** What lesson writes announce after they commit (see util/after-commit.ts). */
export interface LessonCommitEvents {
  /**
   * A lesson was created (`previousStatus` null) or changed status: the event as recorded in
   * the durable log in the write's transaction (with its seq and cursor); live subscriptions hear it.
   */
  lessonStatusChanged: LessonStatusChangedEvent;
  /** Any committed write to a course's lessons (its live statistics follow). */
  courseActivity: { courseId: string };
}

/** Writes to lessons: only the course's instructor or an admin, under the course's row lock. */
export class LessonCommands {
  constructor(
    private readonly courseCommands: CourseCommands,
    private readonly afterCommit: Emits<LessonCommitEvents>,
    /**
     * Runs in the transaction of a change to a course's counted lessons (one cancelled or
     * deleted): the assessment module records the completions it leads to there.
     */
    private readonly onCountedLessonsChanged?: (tx: Db, courseId: string) => Promise<unknown>,
  ) {}

  /** Called by every write that takes a lesson out of the count, inside its transaction. */
  async countedLessonsChanged(tx: Db, courseId: string): Promise<void> {
    await this.onCountedLessonsChanged?.(tx, courseId);
  }

  /**
   * With a `clientMutationId`, the key is remembered in the creating transaction: a retry
   * (same viewer, same id, within a day) returns the lesson the first attempt made, even when
   * that attempt's answer was lost or was a 503 after the COMMIT went through.
   */
  async create(scope: RequestScope, input: CreateLessonInput): Promise<LessonRow> {
    const viewer = requireSignedIn(scope.viewer);
    const v = parseInput(createLessonSchema, input);
    const courseId = uuidOf('Course', v.courseId);
    const { clientMutationId, ...fields } = v;
    const key = clientMutationId
      ? {
          userId: viewer.userId,
          operation: 'createLesson',
          key: clientMutationId,
          fingerprint: inputFingerprint({ ...fields, courseId }),
        }
      : null;
    let replayed = false;
    const { lesson, event } = await this.courseCommands.withManageableCourse(
      scope,
      courseId,
      async (tx, course) => {
        // Under the course's row lock: two attempts with one key on one course run one at a time.
        // A replay is authorized as a new attempt would be (the viewer manages this course,
        // checked above) and must carry the same input, so it names this very course.
        const earlier = key ? await rememberedEntity(tx, key) : null;
        if (earlier) {
          const row = await findLesson(tx, earlier.entityId);
          assertSameInput(key!, earlier, () => row?.courseId === course.id);
          if (!row)
            throw AppError.conflict('clientMutationId was used for a lesson that has since been deleted', {
              clientMutationId: key!.key,
            });
          replayed = true;
          return { lesson: row, event: null };
        }
        // The course row is locked: positions in the group stay contiguous under concurrent writes.
        const section = v.sectionId ? ((await findSection(tx, sectionUuid(v.sectionId))) ?? null) : null;
        if (v.sectionId && section?.courseId !== course.id)
          throw AppError.badInput({ sectionId: 'names no section of this course' });
        if ((await lessonCountInCourse(tx, course.id)) >= MAX_LESSONS_PER_COURSE)
          throw AppError.conflict(`A course holds at most ${MAX_LESSONS_PER_COURSE} lessons`);
        const group = { courseId: course.id, sectionId: section?.id ?? null };
        const position = clampPosition(v.position, await lessonCountInGroup(tx, group));
        await openLessonSlot(tx, group, position);
        const row = await insertLesson(tx, {
          courseId: course.id,
          sectionId: group.sectionId,
          sectionRank: sectionRankOf(section),
          title: v.title,
          content: v.content ?? '',
          position,
          scheduledAt: v.scheduledAt ?? null,
          durationMinutes: v.durationMinutes ?? null,
        });
        if (key && !(await rememberEntity(tx, key, row.id))) {
          // Another attempt with this key (for another course) committed meanwhile.
          throw AppError.conflict('clientMutationId is already in use', { clientMutationId: key.key });
        }
        // Students hear of a new lesson once it has a time (notifications, via the outbox).
        if (row.scheduledAt) {
          await appendToOutbox(tx, {
            type: 'lesson.scheduled',
            lessonId: row.id,
            courseId: row.courseId,
            scheduledAt: row.scheduledAt.toISOString(),
            occurredAt: row.createdAt.toISOString(),
          });
        }
        return { lesson: row, event: await LessonEvents.record(tx, row, null, viewer.userId) };
      },
      ['Lesson:list'],
    );
    if (!replayed && event) await this.afterCommit.emit('lessonStatusChanged', event);
    if (!replayed) await this.afterCommit.emit('courseActivity', { courseId: lesson.courseId });
    return lesson;
  }

  async update(scope: RequestScope, input: UpdateLessonInput): Promise<LessonRow> {
    const v = parseInput(updateLessonSchema, input);
    return this.withManageableLesson(scope, v.id, async (tx, lesson) => {
      let row = lesson;
      // A new position is a move within the lesson's own group (the others close up around it).
      if (v.position !== undefined && v.position !== lesson.position) {
        const section = lesson.sectionId ? ((await findSection(tx, lesson.sectionId)) ?? null) : null;
        row = await placeLesson(tx, lesson, section, v.position);
      }
      const changes = { title: v.title, content: v.content, durationMinutes: v.durationMinutes };
      if (Object.values(changes).every((x) => x === undefined)) return row;
      return updateLesson(tx, lesson.id, changes);
    });
  }

  async delete(scope: RequestScope, id: string): Promise<string> {
    return this.withManageableLesson(scope, id, async (tx, lesson) => {
      await deleteLesson(tx, lesson.id);
      await closeLessonSlot(tx, { courseId: lesson.courseId, sectionId: lesson.sectionId }, lesson.position);
      await this.countedLessonsChanged(tx, lesson.courseId);
      return id;
    });
  }

  /** Visible lesson of a course the viewer manages, re-read inside the transaction. */
  async withManageableLesson<T>(
    scope: RequestScope,
    id: string,
    work: (tx: Db, lesson: LessonRow) => Promise<T>,
  ): Promise<T> {
    requireSignedIn(scope.viewer);
    const uuid = uuidOf('Lesson', id);
    const visible = uuid ? await scope.loaders.lessons.visibleById.load(uuid) : null;
    if (!visible) throw AppError.notFound('Lesson');
    const result = await this.courseCommands.withManageableCourse(
      scope,
      visible.courseId,
      async (tx, course) => {
        const lesson = await findLesson(tx, visible.id, true);
        if (!lesson || lesson.courseId !== course.id) throw AppError.notFound('Lesson');
        return work(tx, lesson);
      },
      [`Lesson:${visible.id}`, 'Lesson:list'], // status filters and order change lists
    );
    await this.afterCommit.emit('courseActivity', { courseId: visible.courseId });
    return result;
  }
}

function sectionUuid(id: string): string {
  const uuid = uuidOf('Section', id);
  if (!uuid) throw AppError.badInput({ sectionId: 'is not a valid Section ID' });
  return uuid;
}
