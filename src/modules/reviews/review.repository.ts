import { and, count, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Viewer } from '../../auth/viewer.js';
import { anyUuid } from '../../db/any-uuid.js';
import type { Db } from '../../db/client.js';
import { pagesByParent } from '../../db/paged-by-parent.js';
import { courses, reviews, type ReviewRow } from '../../db/schema.js';
import type { PageRequest, SortSpec } from '../../graphql/pagination.js';
import { courseVisibility } from '../courses/index.js';
import type { ReviewOrderField } from './review.type.js';

type Dir = 'ASC' | 'DESC';

export function reviewSort(field: ReviewOrderField = 'CREATED_AT', direction: Dir = 'DESC'): SortSpec<ReviewRow> {
  const byRating = field === 'RATING';
  return {
    key: `reviews:${field}:${direction}`,
    column: byRating ? reviews.rating : reviews.createdAt,
    idColumn: reviews.id,
    kind: byRating ? 'int' : 'timestamp',
    direction,
    valueOf: (r) => (byRating ? r.rating : r.createdAt),
    idOf: (r) => r.id,
  };
}

/** Hidden reviews: only their author and admins see them. */
function reviewVisibility(viewer: Viewer): SQL | undefined {
  if (viewer.role === 'ADMIN') return undefined;
  if (!viewer.userId) return eq(reviews.hidden, false);
  return or(eq(reviews.hidden, false), eq(reviews.authorId, viewer.userId));
}

/** Reviews by id; with `visibleTo`, only those of courses the viewer sees and not hidden from them. */
export async function findReviewsByIds(db: Db, ids: string[], visibleTo?: Viewer): Promise<ReviewRow[]> {
  if (!visibleTo) return db.select().from(reviews).where(anyUuid(reviews.id, ids));
  const rows = await db
    .select({ review: reviews })
    .from(reviews)
    .innerJoin(courses, eq(courses.id, reviews.courseId))
    .where(and(anyUuid(reviews.id, ids), courseVisibility(visibleTo), reviewVisibility(visibleTo)));
  return rows.map((r) => r.review);
}

export function reviewsPageByCourses(
  db: Db,
  viewer: Viewer,
  courseIds: string[],
  spec: SortSpec<ReviewRow>,
  page: PageRequest,
) {
  return pagesByParent(
    db,
    reviews,
    reviews.courseId,
    (r: ReviewRow) => r.courseId,
    courseIds,
    spec,
    page,
    reviewVisibility(viewer),
  );
}

export async function countReviewsByCourses(db: Db, viewer: Viewer, courseIds: string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ courseId: reviews.courseId, n: count() })
    .from(reviews)
    .where(and(anyUuid(reviews.courseId, courseIds), reviewVisibility(viewer)))
    .groupBy(reviews.courseId);
  return new Map(rows.map((r) => [r.courseId, r.n]));
}

/** The author's own review per course. */
export async function reviewsOfAuthorByCourses(
  db: Db,
  authorId: string,
  courseIds: string[],
): Promise<Map<string, ReviewRow>> {
  const rows = await db
    .select()
    .from(reviews)
    .where(and(eq(reviews.authorId, authorId), anyUuid(reviews.courseId, courseIds)));
  return new Map(rows.map((r) => [r.courseId, r]));
}

/**
 * Writes the author's review of the course, or replaces its rating and body: one statement,
 * so concurrent first writes meet on the unique (course, author) key and leave one row. The
 * rating summary follows in the same transaction (a trigger, see the catalog migration).
 */
export async function upsertReview(
  db: Db,
  values: { courseId: string; authorId: string; rating: number; body: string | null },
): Promise<ReviewRow> {
  const [row] = await db
    .insert(reviews)
    .values(values)
    .onConflictDoUpdate({
      target: [reviews.courseId, reviews.authorId],
      set: { rating: values.rating, body: values.body, updatedAt: sql`now()` },
    })
    .returning();
  return row!;
}

export async function updateReview(
  db: Db,
  id: string,
  changes: Partial<Pick<ReviewRow, 'hidden' | 'instructorReply' | 'instructorRepliedAt'>>,
): Promise<ReviewRow | undefined> {
  const [row] = await db.update(reviews).set(changes).where(eq(reviews.id, id)).returning();
  return row;
}

export async function deleteReview(db: Db, id: string): Promise<boolean> {
  const rows = await db.delete(reviews).where(eq(reviews.id, id)).returning({ id: reviews.id });
  return rows.length > 0;
}
