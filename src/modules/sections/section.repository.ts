import { and, asc, count, eq } from 'drizzle-orm';
import type { Viewer } from '../../auth/viewer.js';
import { anyUuid } from '../../db/any-uuid.js';
import type { Db } from '../../db/client.js';
import { pagesByParent } from '../../db/paged-by-parent.js';
import { courses, lessons, sections, type LessonRow, type SectionRow } from '../../db/schema.js';
import type { PageRequest, SortSpec } from '../../graphql/pagination.js';
import { courseVisibility } from '../courses/index.js';

/** `Section.lessons`: by position within the section. */
export const sectionLessonSort: SortSpec<LessonRow> = {
  key: 'sectionLessons:POSITION:ASC',
  column: lessons.position,
  idColumn: lessons.id,
  kind: 'int',
  direction: 'ASC',
  valueOf: (l) => l.position,
  idOf: (l) => l.id,
};

/** Sections follow their course: a section is visible exactly when its course is. */
export async function findSectionsByIds(db: Db, ids: string[], visibleTo?: Viewer): Promise<SectionRow[]> {
  if (!visibleTo) return db.select().from(sections).where(anyUuid(sections.id, ids));
  const rows = await db
    .select({ section: sections })
    .from(sections)
    .innerJoin(courses, eq(courses.id, sections.courseId))
    .where(and(anyUuid(sections.id, ids), courseVisibility(visibleTo)));
  return rows.map((r) => r.section);
}

/** Every section of many courses, in order (a course holds at most MAX_SECTIONS). */
export async function sectionsByCourses(db: Db, courseIds: string[]): Promise<Map<string, SectionRow[]>> {
  const rows = await db
    .select()
    .from(sections)
    .where(anyUuid(sections.courseId, courseIds))
    .orderBy(asc(sections.courseId), asc(sections.position), asc(sections.id));
  const byCourse = new Map<string, SectionRow[]>();
  for (const row of rows) {
    const list = byCourse.get(row.courseId);
    if (list) list.push(row);
    else byCourse.set(row.courseId, [row]);
  }
  return byCourse;
}

export function lessonsPageBySections(db: Db, sectionIds: string[], page: PageRequest) {
  return pagesByParent(
    db,
    lessons,
    lessons.sectionId,
    (l: LessonRow) => l.sectionId!,
    sectionIds,
    sectionLessonSort,
    page,
  );
}

export async function lessonCountsBySections(db: Db, sectionIds: string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ sectionId: lessons.sectionId, n: count() })
    .from(lessons)
    .where(anyUuid(lessons.sectionId, sectionIds))
    .groupBy(lessons.sectionId);
  return new Map(rows.map((r) => [r.sectionId!, r.n]));
}

export async function insertSection(
  db: Db,
  values: Pick<SectionRow, 'courseId' | 'title' | 'position'>,
): Promise<SectionRow> {
  const [row] = await db.insert(sections).values(values).returning();
  return row!;
}

export async function updateSection(
  db: Db,
  id: string,
  changes: Partial<Pick<SectionRow, 'title' | 'position'>>,
): Promise<SectionRow> {
  const [row] = await db.update(sections).set(changes).where(eq(sections.id, id)).returning();
  return row!;
}

export async function deleteSection(db: Db, id: string): Promise<void> {
  await db.delete(sections).where(eq(sections.id, id));
}
