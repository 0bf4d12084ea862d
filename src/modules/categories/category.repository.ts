import { and, asc, count, eq, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import type { Db } from '../../db/client.js';
import { categories, courses, type CategoryRow, type NewCategoryRow } from '../../db/schema.js';

/** Every category, by name (case-insensitively). Categories are few and admin-made. */
export function listCategories(db: Db): Promise<CategoryRow[]> {
  return db
    .select()
    .from(categories)
    .orderBy(asc(sql`lower(${categories.name})`), asc(categories.id))
    .limit(1000);
}

export function findCategoriesByIds(db: Db, ids: string[]): Promise<CategoryRow[]> {
  return db.select().from(categories).where(anyUuid(categories.id, ids));
}

export async function findCategoryBySlug(db: Db, slug: string): Promise<CategoryRow | undefined> {
  const [row] = await db.select().from(categories).where(eq(categories.slug, slug)).limit(1);
  return row;
}

export async function insertCategory(db: Db, values: NewCategoryRow): Promise<CategoryRow> {
  const [row] = await db.insert(categories).values(values).returning();
  return row!;
}

export async function updateCategory(
  db: Db,
  id: string,
  changes: Partial<Pick<NewCategoryRow, 'name' | 'slug' | 'description'>>,
): Promise<CategoryRow | undefined> {
  const [row] = await db.update(categories).set(changes).where(eq(categories.id, id)).returning();
  return row;
}

/** Deletes the category; its courses keep existing without one (ON DELETE SET NULL). */
export async function deleteCategory(db: Db, id: string): Promise<boolean> {
  const rows = await db.delete(categories).where(eq(categories.id, id)).returning({ id: categories.id });
  return rows.length > 0;
}

/** PUBLISHED courses per category, for a page of categories in one statement. */
export async function publishedCountsByCategories(db: Db, ids: string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ categoryId: courses.categoryId, n: count() })
    .from(courses)
    .where(and(anyUuid(courses.categoryId, ids), eq(courses.status, 'PUBLISHED')))
    .groupBy(courses.categoryId);
  return new Map(rows.map((r) => [r.categoryId!, r.n]));
}
