import { randomBytes } from 'node:crypto';
import { and, count, eq, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { anyUuidAt, builtOnce, prepared } from '../../db/prepared.js';
import { pagesByParent } from '../../db/paged-by-parent.js';
import {
  courseColumns,
  courses,
  enrollments,
  type CourseRow,
  type CourseStatus,
  type NewCourseRow,
} from '../../db/schema.js';
import {
  cursorValues,
  keysetCondition,
  keysetConditionAt,
  keysetOrder,
  type PageRequest,
  type SortSpec,
} from '../../graphql/pagination.js';
import { NodeColumns } from '../../graphql/selected-columns.js';
import type { CourseOrderField } from './course.type.js';

type Dir = 'ASC' | 'DESC';

const SORT_COLUMNS = {
  CREATED_AT: { column: courses.createdAt, kind: 'timestamp', valueOf: (c: CourseRow) => c.createdAt },
  TITLE: { column: courses.title, kind: 'text', valueOf: (c: CourseRow) => c.title },
  PRICE: { column: courses.priceCents, kind: 'int', valueOf: (c: CourseRow) => c.priceCents },
  POPULARITY: {
    column: courses.activeEnrollmentCount,
    kind: 'int',
    valueOf: (c: CourseRow) => c.activeEnrollmentCount,
  },
} as const;

/**
 * RATING: one indexed column per direction, each placing unrated courses last (see
 * course.table.ts), so the keyset stays a plain (value, id) comparison.
 */
const RATING_COLUMNS = {
  DESC: { column: courses.ratingOrderDesc, kind: 'int', valueOf: (c: CourseRow) => c.ratingOrderDesc },
  ASC: { column: courses.ratingOrderAsc, kind: 'int', valueOf: (c: CourseRow) => c.ratingOrderAsc },
} as const;

export function courseSort(
  field: CourseOrderField = 'CREATED_AT',
  direction: Dir = 'DESC',
  list = 'courses',
): SortSpec<CourseRow> {
  const s = field === 'RATING' ? RATING_COLUMNS[direction] : SORT_COLUMNS[field];
  return {
    key: `${list}:${field}:${direction}`,
    column: s.column,
    idColumn: courses.id,
    kind: s.kind,
    direction,
    valueOf: s.valueOf,
    idOf: (c) => c.id,
  };
}

/** An instructor's courses, newest first. */
export const taughtSort = courseSort('CREATED_AT', 'DESC', 'coursesTaught');

/**
 * Which courses a viewer may see. Everyone: PUBLISHED. Signed-in viewers also: courses they
 * teach, and ARCHIVED courses they are actively enrolled in. Admins: everything.
 * Every entry point (by id, by slug, lists, counts) goes through this one predicate.
 */
export function courseVisibility(viewer: Pick<Viewer, 'userId' | 'role'>): SQL | undefined {
  if (viewer.role === 'ADMIN') return undefined;
  const published = eq(courses.status, 'PUBLISHED');
  if (!viewer.userId) return published;
  return or(
    published,
    // Their own courses, while they teach (see teachesCourse in course.policy.ts).
    viewer.role === 'INSTRUCTOR' ? eq(courses.instructorId, viewer.userId) : undefined,
    and(
      eq(courses.status, 'ARCHIVED'),
      sql`exists (select 1 from ${enrollments} where ${enrollments.courseId} = ${courses.id}
        and ${enrollments.studentId} = ${viewer.userId} and ${enrollments.status} = 'ACTIVE')`,
    ),
  );
}

export function findCoursesByIds(db: Db, ids: string[], visibleTo?: Viewer): Promise<CourseRow[]> {
  // Relations (a lesson's or an enrollment's course): the hot one, prepared.
  if (!visibleTo) {
    return prepared(db, 'courses-by-ids', () =>
      db.select(courseColumns).from(courses).where(anyUuidAt(courses.id, 'ids')).prepare('courses_by_ids'),
    ).execute({ ids });
  }
  return db
    .select(courseColumns)
    .from(courses)
    .where(and(anyUuid(courses.id, ids), visibleTo ? courseVisibility(visibleTo) : undefined));
}

export async function findCourseBySlug(db: Db, slug: string, visibleTo: Viewer): Promise<CourseRow | undefined> {
  const [row] = await db
    .select(courseColumns)
    .from(courses)
    .where(and(eq(courses.slug, slug), courseVisibility(visibleTo)))
    .limit(1);
  return row;
}

export interface CourseListFilter {
  /** Already trimmed and non-empty. */
  search?: string;
  instructorId?: string;
  status?: CourseStatus;
  categoryId?: string;
  /** 1 to 5: the average visible rating is at least this (unrated courses excluded). */
  minRating?: number;
  free?: boolean;
}

function isEmptyFilter(f: CourseListFilter): boolean {
  return (
    !f.instructorId && !f.status && !f.search && !f.categoryId && f.minRating === undefined && f.free === undefined
  );
}

function listCondition(viewer: Viewer, filter: CourseListFilter): SQL | undefined {
  return and(
    courseVisibility(viewer),
    filter.instructorId ? eq(courses.instructorId, filter.instructorId) : undefined,
    filter.status ? eq(courses.status, filter.status) : undefined,
    filter.categoryId ? eq(courses.categoryId, filter.categoryId) : undefined,
    filter.minRating !== undefined
      ? sql`${courses.ratingCount} > 0 and ${courses.ratingSum} >= ${filter.minRating}::numeric * ${courses.ratingCount}`
      : undefined,
    filter.free === undefined ? undefined : filter.free ? eq(courses.priceCents, 0) : sql`${courses.priceCents} > 0`,
    // websearch_to_tsquery never raises on user input: quotes, operators and stray
    // punctuation are read as plain words, so no search string can break the query.
    filter.search ? sql`${courses.searchVector} @@ websearch_to_tsquery('english', ${filter.search})` : undefined,
  );
}

/**
 * The public catalog (anonymous or admin, no filter: the predicate holds no values) is the hot
 * list: its statements are prepared, one per ordering and cursor-or-not. Null for any other list.
 */
function catalogShape(viewer: Viewer, filter: CourseListFilter, spec: SortSpec<CourseRow>, page: PageRequest) {
  if (!((viewer.userId === null || viewer.role === 'ADMIN') && isEmptyFilter(filter))) return null;
  return `${viewer.role === 'ADMIN' ? 'admin' : 'anonymous'}|${spec.key}|${page.backward}|${page.cursor ? 'after' : 'first'}`;
}

/**
 * The courses a catalog page shows (its first `size` rows in walking order), as statements
 * that select their ids and their instructors' ids: children of the page (its lessons, its
 * instructors) are then asked for together with the page itself, not after it. Null off the
 * hot path (`catalogShape`). Its placeholders are named `page*`, apart from any child page's.
 */
export function catalogPageQueries(
  db: Db,
  viewer: Viewer,
  filter: CourseListFilter,
  spec: SortSpec<CourseRow>,
  page: PageRequest,
): CoursePageQueries | null {
  const shape = catalogShape(viewer, filter, spec, page);
  if (shape === null) return null;
  const select = (column: typeof courses.id | typeof courses.instructorId) =>
    db
      .select({ id: column })
      .from(courses)
      .where(and(courseVisibility(viewer), keysetConditionAt(spec, page, 'page')))
      .orderBy(...keysetOrder(spec, page))
      .limit(sql.placeholder('pageSize'));
  const pageShape = `catalog|${shape}`;
  // Only placeholders in them: the trees are the same for every page of this shape.
  const { ids, instructorIds } = builtOnce(db, pageShape, () => ({
    ids: select(courses.id),
    instructorIds: select(courses.instructorId),
  }));
  return {
    ids,
    instructorIds,
    shape: pageShape,
    values: page.cursor ? { pageSize: page.size, ...cursorValues(page, 'page') } : { pageSize: page.size },
  };
}

/** See `catalogPageQueries`: `ids` and `instructorIds` share `shape` and `values`. */
export interface CoursePageQueries {
  readonly ids: SQLWrapper;
  readonly instructorIds: SQLWrapper;
  readonly shape: string;
  readonly values: Record<string, unknown>;
}

/**
 * The catalog page loads only the columns its query reads (graphql/selected-columns.ts):
 * always the id (cache tags, `id`), the instructor and status (`instructor`, policies) and
 * every ordering's sort column (a cursor of any order); the column fields selected; and for
 * the field resolvers below, what they read. Any other field of `Course` (whose resolver may
 * read any column: `viewerCan`, `category`...) loads every column.
 */
export const courseListColumns = new NodeColumns(
  courseColumns,
  [
    'id',
    'instructorId',
    'status',
    'createdAt',
    'title',
    'priceCents',
    'activeEnrollmentCount',
    'ratingOrderDesc',
    'ratingOrderAsc',
  ],
  {
    // course.resolver.ts
    id: ['id'],
    instructor: ['instructorId'],
    // lessons/course-lessons.resolver.ts
    lessons: ['id'],
    lessonCount: ['id'],
  },
);
export type CourseColumns = ReturnType<typeof courseListColumns.of>;

export function listCourses(
  db: Db,
  viewer: Viewer,
  filter: CourseListFilter,
  spec: SortSpec<CourseRow>,
  page: PageRequest,
  /** On the catalog, only these columns (rows are partial: only the query's own fields read them). */
  columns?: CourseColumns,
): Promise<CourseRow[]> {
  const catalog = catalogShape(viewer, filter, spec, page);
  if (catalog !== null) {
    const shape = `courses-list|${catalog}|${columns?.key ?? '*'}`;
    return prepared(db, shape, () =>
      db
        .select(columns?.columns ?? courseColumns)
        .from(courses)
        .where(and(courseVisibility(viewer), keysetConditionAt(spec, page)))
        .orderBy(...keysetOrder(spec, page))
        .limit(sql.placeholder('limit'))
        .prepare('courses_list'),
    ).execute({ limit: page.size + 1, ...cursorValues(page) });
  }
  return db
    .select(courseColumns)
    .from(courses)
    .where(and(listCondition(viewer, filter), keysetCondition(spec, page)))
    .orderBy(...keysetOrder(spec, page))
    .limit(page.size + 1);
}

export async function countCourses(db: Db, viewer: Viewer, filter: CourseListFilter): Promise<number> {
  // The catalog's count is prepared too (a statement with values and no name costs postgres.js
  // a second round trip: it asks Postgres for the parameter types first).
  const query =
    (viewer.userId === null || viewer.role === 'ADMIN') && isEmptyFilter(filter)
      ? prepared(db, `courses-count|${viewer.role === 'ADMIN' ? 'admin' : 'anonymous'}`, () =>
          db.select({ n: count() }).from(courses).where(courseVisibility(viewer)).prepare('courses_count'),
        ).execute()
      : db.select({ n: count() }).from(courses).where(listCondition(viewer, filter));
  const [row] = await query;
  return row?.n ?? 0;
}

export function coursesPageByInstructors(db: Db, viewer: Viewer, instructorIds: string[], page: PageRequest) {
  return pagesByParent(
    db,
    courses,
    courses.instructorId,
    (c: CourseRow) => c.instructorId,
    instructorIds,
    taughtSort,
    page,
    courseVisibility(viewer),
    courseColumns,
  );
}

export async function countCoursesByInstructors(
  db: Db,
  viewer: Viewer,
  instructorIds: string[],
): Promise<Map<string, number>> {
  const rows = await db
    .select({ instructorId: courses.instructorId, n: count() })
    .from(courses)
    .where(and(anyUuid(courses.instructorId, instructorIds), courseVisibility(viewer)))
    .groupBy(courses.instructorId);
  return new Map(rows.map((r) => [r.instructorId, r.n]));
}

/** `Category.courses`: the newest courses of each category the viewer may see. */
export const categorySort = courseSort('CREATED_AT', 'DESC', 'categoryCourses');

export function coursesPageByCategories(db: Db, viewer: Viewer, categoryIds: string[], page: PageRequest) {
  return pagesByParent(
    db,
    courses,
    courses.categoryId,
    (c: CourseRow) => c.categoryId!,
    categoryIds,
    categorySort,
    page,
    courseVisibility(viewer),
    courseColumns,
  );
}

export async function countCoursesByCategories(
  db: Db,
  viewer: Viewer,
  categoryIds: string[],
): Promise<Map<string, number>> {
  const rows = await db
    .select({ categoryId: courses.categoryId, n: count() })
    .from(courses)
    .where(and(anyUuid(courses.categoryId, categoryIds), courseVisibility(viewer)))
    .groupBy(courses.categoryId);
  return new Map(rows.map((r) => [r.categoryId!, r.n]));
}

/** The course row, locked for the rest of the transaction (writes to a course serialise). */
export async function lockCourse(db: Db, id: string): Promise<CourseRow | undefined> {
  const [row] = await db.select(courseColumns).from(courses).where(eq(courses.id, id)).for('update');
  return row;
}

export async function countActiveEnrollments(db: Db, courseId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.status, 'ACTIVE')));
  return row?.n ?? 0;
}

/**
 * Inserts a course under `base` or, when taken, the first free `base-2`, `base-3`... The
 * insert itself is ON CONFLICT DO NOTHING, so a concurrent taker makes it try again rather
 * than fail.
 */
export async function insertCourseWithFreeSlug(
  db: Db,
  values: Omit<NewCourseRow, 'slug'>,
  base: string,
): Promise<CourseRow> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const taken = new Set(
      (
        await db
          .select({ slug: courses.slug })
          .from(courses)
          .where(or(eq(courses.slug, base), sql`${courses.slug} ~ ${`^${base}-[0-9]+$`}`))
      ).map((r) => r.slug),
    );
    let candidate = base;
    for (let n = 2; taken.has(candidate); n++) candidate = `${base}-${n}`;
    const [row] = await db
      .insert(courses)
      .values({ ...values, slug: candidate })
      .onConflictDoNothing({ target: courses.slug })
      .returning();
    if (row) return row;
  }
  const [row] = await db
    .insert(courses)
    .values({ ...values, slug: `${base}-${randomBytes(3).toString('hex')}` })
    .returning();
  return row!;
}

/** Inserts a course under exactly `slug`; a taken slug fails with courses_slug_key. */
export async function insertCourse(db: Db, values: NewCourseRow): Promise<CourseRow> {
  const [row] = await db.insert(courses).values(values).returning();
  return row!;
}

export async function updateCourse(
  db: Db,
  id: string,
  changes: Partial<
    Pick<NewCourseRow, 'title' | 'description' | 'priceCents' | 'status' | 'publishedAt' | 'categoryId'>
  >,
): Promise<CourseRow> {
  const [row] = await db.update(courses).set(changes).where(eq(courses.id, id)).returning();
  return row!;
}

/** Deletes a course; its lessons go with it (ON DELETE CASCADE). */
export async function deleteCourse(db: Db, id: string): Promise<void> {
  await db.delete(courses).where(eq(courses.id, id));
}
