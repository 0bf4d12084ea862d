import { and, count, eq, gt, gte, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { lessons, sections, type LessonRow, type SectionRow } from '../../db/schema.js';

/**
 * Positions in a course's curriculum. Every function here runs inside a transaction that holds
 * the course's row lock (`CourseCommands.withManageableCourse`): writes to one course's order
 * serialise there, which is what keeps positions contiguous from 0 — in the course's sections,
 * in each section, and in the no-section group — whatever runs concurrently.
 */

/** A group of lessons: one section's, or the course's lessons without a section (null). */
export interface LessonGroup {
  readonly courseId: string;
  readonly sectionId: string | null;
}

function inGroup(g: LessonGroup): SQL {
  return and(
    eq(lessons.courseId, g.courseId),
    g.sectionId ? eq(lessons.sectionId, g.sectionId) : isNull(lessons.sectionId),
  )!;
}

export async function lessonCountInGroup(db: Db, g: LessonGroup, except?: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(lessons)
    .where(and(inGroup(g), except ? ne(lessons.id, except) : undefined));
  return row?.n ?? 0;
}

export async function lessonCountInCourse(db: Db, courseId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(lessons).where(eq(lessons.courseId, courseId));
  return row?.n ?? 0;
}

/** Makes room at `position` in the group: the lessons from there on move one down. */
export async function openLessonSlot(db: Db, g: LessonGroup, position: number, except?: string): Promise<void> {
  await db
    .update(lessons)
    .set({ position: sql`${lessons.position} + 1` })
    .where(and(inGroup(g), gte(lessons.position, position), except ? ne(lessons.id, except) : undefined));
}

/** Closes the gap a lesson left at `position` in the group. */
export async function closeLessonSlot(db: Db, g: LessonGroup, position: number, except?: string): Promise<void> {
  await db
    .update(lessons)
    .set({ position: sql`${lessons.position} - 1` })
    .where(and(inGroup(g), gt(lessons.position, position), except ? ne(lessons.id, except) : undefined));
}

/** `section_rank` of a lesson in this section: its position + 1 (0: no section). */
export function sectionRankOf(section: Pick<SectionRow, 'position'> | null): number {
  return section ? section.position + 1 : 0;
}

/** After sections moved: every lesson's `section_rank` follows its section's position again. */
export async function syncSectionRanks(db: Db, courseId: string): Promise<void> {
  await db.execute(sql`update ${lessons} l set section_rank = s.position + 1 from ${sections} s
    where l.section_id = s.id and s.course_id = ${courseId}::uuid and l.course_id = ${courseId}::uuid
      and l.section_rank <> s.position + 1`);
}

export async function sectionCountOfCourse(db: Db, courseId: string, except?: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(sections)
    .where(and(eq(sections.courseId, courseId), except ? ne(sections.id, except) : undefined));
  return row?.n ?? 0;
}

export async function openSectionSlot(db: Db, courseId: string, position: number, except?: string): Promise<void> {
  await db
    .update(sections)
    .set({ position: sql`${sections.position} + 1` })
    .where(
      and(
        eq(sections.courseId, courseId),
        gte(sections.position, position),
        except ? ne(sections.id, except) : undefined,
      ),
    );
}

export async function closeSectionSlot(db: Db, courseId: string, position: number, except?: string): Promise<void> {
  await db
    .update(sections)
    .set({ position: sql`${sections.position} - 1` })
    .where(
      and(
        eq(sections.courseId, courseId),
        gt(sections.position, position),
        except ? ne(sections.id, except) : undefined,
      ),
    );
}

export async function findSection(db: Db, id: string): Promise<SectionRow | undefined> {
  const [row] = await db.select().from(sections).where(eq(sections.id, id));
  return row;
}

/** `position` clamped to 0..size: a place past the end means last. */
export function clampPosition(position: number | undefined, size: number): number {
  return position === undefined ? size : Math.max(0, Math.min(position, size));
}

/**
 * Moves a lesson to `position` (omitted: last) in `target` (null: no section) of its course,
 * closing the gap it leaves and opening the one it takes.
 */
export async function placeLesson(
  db: Db,
  lesson: LessonRow,
  target: Pick<SectionRow, 'id' | 'position'> | null,
  position: number | undefined,
): Promise<LessonRow> {
  const from = { courseId: lesson.courseId, sectionId: lesson.sectionId };
  const to = { courseId: lesson.courseId, sectionId: target?.id ?? null };
  await closeLessonSlot(db, from, lesson.position, lesson.id);
  const place = clampPosition(position, await lessonCountInGroup(db, to, lesson.id));
  await openLessonSlot(db, to, place, lesson.id);
  const [row] = await db
    .update(lessons)
    .set({ sectionId: to.sectionId, sectionRank: sectionRankOf(target), position: place })
    .where(eq(lessons.id, lesson.id))
    .returning();
  return row!;
}
