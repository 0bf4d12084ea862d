import { requireSignedIn } from '../../auth/viewer.js';
import { createOnce, inputFingerprint } from '../../idempotency/idempotency.repository.js';
import type { RequestScope } from '../../request-scope.js';
import type { Db } from '../../db/client.js';
import type { LessonRow, SectionRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parsePage, toConnection, type Connection, type PageArgs } from '../../graphql/pagination.js';
import {
  clampPosition,
  closeSectionSlot,
  findSection,
  lessonCountInGroup,
  openSectionSlot,
  placeLesson,
  sectionCountOfCourse,
  syncSectionRanks,
  type LessonCommands,
} from '../lessons/index.js';
import type { CourseCommands } from '../courses/index.js';
import { parseInput } from '../../graphql/validation.js';
import {
  createSectionSchema,
  moveLessonSchema,
  updateSectionSchema,
  type CreateSectionInput,
  type MoveLessonInput,
  type UpdateSectionInput,
} from './section.inputs.js';
import { deleteSection, insertSection, sectionLessonSort, updateSection } from './section.repository.js';

/** Sections a course may hold. */
const MAX_SECTIONS_PER_COURSE = 200;

/** Reads of sections, batched through the request's loaders. */
export class SectionService {
  async findVisible(scope: RequestScope, id: string): Promise<SectionRow | null> {
    const uuid = uuidOf('Section', id);
    return uuid ? scope.loaders.sections.visibleById.load(uuid) : null;
  }

  /** `Course.sections`, in order. */
  ofCourse(scope: RequestScope, courseId: string): Promise<SectionRow[]> {
    return scope.loaders.sections.byCourse.load(courseId);
  }

  /** A lesson's section (null: none). */
  async ofLesson(scope: RequestScope, lesson: Pick<LessonRow, 'sectionId'>): Promise<SectionRow | null> {
    return lesson.sectionId ? scope.loaders.sections.byId.load(lesson.sectionId) : null;
  }

  async lessons(scope: RequestScope, sectionId: string, args: PageArgs): Promise<Connection<LessonRow>> {
    const page = parsePage(sectionLessonSort, args);
    const rows = await scope.loaders.sections.lessonsPage.load({ parentId: sectionId, params: page });
    return toConnection(sectionLessonSort, page, rows, () => this.lessonCount(scope, sectionId));
  }

  lessonCount(scope: RequestScope, sectionId: string): Promise<number> {
    return scope.loaders.sections.lessonCount.load(sectionId);
  }
}

/**
 * Writes to a course's sections and its lessons' places: the course's instructor and admins,
 * each in one transaction holding the course's row lock, so concurrent writes to one course's
 * order run one after the other and positions stay contiguous from 0.
 */
export class SectionCommands {
  constructor(
    private readonly courseCommands: CourseCommands,
    private readonly lessonCommands: LessonCommands,
  ) {}

  /**
   * With a `clientMutationId`, a retry (same viewer, same id and input, within a day) returns
   * the section the first attempt made, even when that attempt's answer was lost.
   */
  async create(scope: RequestScope, input: CreateSectionInput): Promise<SectionRow> {
    const viewer = requireSignedIn(scope.viewer);
    const { clientMutationId, ...v } = parseInput(createSectionSchema, input);
    const courseId = uuidOf('Course', v.courseId);
    const key = clientMutationId
      ? {
          userId: viewer.userId,
          operation: 'createSection',
          key: clientMutationId,
          fingerprint: inputFingerprint({ ...v, courseId }),
        }
      : null;
    return this.courseCommands.withManageableCourse(
      scope,
      courseId,
      // Under the course's row lock: two attempts with one key on one course run one at a time.
      async (tx, course) => {
        const { row } = await createOnce(tx, key, 'section', {
          find: (id) => findSection(tx, id),
          legacy: () => false,
          create: async () => {
            const size = await sectionCountOfCourse(tx, course.id);
            if (size >= MAX_SECTIONS_PER_COURSE)
              throw AppError.conflict(`A course holds at most ${MAX_SECTIONS_PER_COURSE} sections`);
            const position = clampPosition(v.position, size);
            await openSectionSlot(tx, course.id, position);
            const created = await insertSection(tx, { courseId: course.id, title: v.title, position });
            await syncSectionRanks(tx, course.id);
            return created;
          },
        });
        return row;
      },
      ['Lesson:list'],
    );
  }

  async update(scope: RequestScope, input: UpdateSectionInput): Promise<SectionRow> {
    const v = parseInput(updateSectionSchema, input);
    return this.withManageableSection(scope, v.id, async (tx, section) => {
      let row = section;
      if (v.position !== undefined && v.position !== section.position) {
        await closeSectionSlot(tx, section.courseId, section.position, section.id);
        const position = clampPosition(v.position, await sectionCountOfCourse(tx, section.courseId, section.id));
        await openSectionSlot(tx, section.courseId, position, section.id);
        row = await updateSection(tx, section.id, { position });
        await syncSectionRanks(tx, section.courseId);
      }
      return v.title === undefined ? row : updateSection(tx, section.id, { title: v.title });
    });
  }

  async delete(scope: RequestScope, id: string): Promise<string> {
    return this.withManageableSection(scope, id, async (tx, section) => {
      const lessons = await lessonCountInGroup(tx, { courseId: section.courseId, sectionId: section.id });
      if (lessons > 0)
        throw AppError.conflict(`The section still holds ${lessons} lesson(s); move them first`, { lessons });
      await deleteSection(tx, section.id);
      await closeSectionSlot(tx, section.courseId, section.position);
      await syncSectionRanks(tx, section.courseId);
      return id;
    });
  }

  async moveLesson(scope: RequestScope, input: MoveLessonInput): Promise<LessonRow> {
    const v = parseInput(moveLessonSchema, input);
    const targetId = v.sectionId == null ? null : uuidOf('Section', v.sectionId);
    if (v.sectionId != null && !targetId) throw AppError.badInput({ sectionId: 'is not a valid Section ID' });
    return this.lessonCommands.withManageableLesson(scope, v.lessonId, async (tx, lesson) => {
      const target = targetId ? await findSection(tx, targetId) : null;
      if (targetId && target?.courseId !== lesson.courseId)
        throw AppError.badInput({ sectionId: "names no section of the lesson's course" });
      return placeLesson(tx, lesson, target ?? null, v.position);
    });
  }

  /** A visible section of a course the viewer manages, re-read under the course's lock. */
  private async withManageableSection<T>(
    scope: RequestScope,
    id: string,
    work: (tx: Db, section: SectionRow) => Promise<T>,
  ): Promise<T> {
    const uuid = uuidOf('Section', id);
    const visible = uuid ? await scope.loaders.sections.visibleById.load(uuid) : null;
    if (!visible) throw AppError.notFound('Section');
    return this.courseCommands.withManageableCourse(
      scope,
      visible.courseId,
      async (tx, course) => {
        const section = await findSection(tx, visible.id);
        if (!section || section.courseId !== course.id) throw AppError.notFound('Section');
        return work(tx, section);
      },
      [`Section:${visible.id}`, 'Lesson:list'],
    );
  }
}
