import { getTableColumns, sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts, tsvector, updatedAt } from '../../db/columns.js';
import { users } from '../users/user.table.js';
import { categories } from '../categories/category.table.js';

/**
 * A course's rating as one int that orders like (average, count): the average to two decimals,
 * then the count (capped). Null while unrated.
 */
const RATING_RANK = sql`case when rating_count = 0 then null
  else round(rating_sum * 100.0 / rating_count)::int * 1000000 + least(rating_count, 999999) end`;

export const COURSE_STATUSES = ['DRAFT', 'PUBLISHED', 'ARCHIVED'] as const;
export type CourseStatus = (typeof COURSE_STATUSES)[number];

export const courses = pgTable(
  'courses',
  {
    id: primaryId(),
    instructorId: uuid('instructor_id').notNull(),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    priceCents: integer('price_cents').notNull().default(0),
    status: text('status', { enum: COURSE_STATUSES }).notNull().default('DRAFT'),
    publishedAt: ts('published_at'),
    categoryId: uuid('category_id'),
    // The visible reviews' ratings and the active enrollments, kept by triggers in the writing
    // transaction (see the catalog migration): the catalog's summaries and orders read them
    // from the course row, with no aggregate per page.
    ratingCount: integer('rating_count').notNull().default(0),
    ratingSum: integer('rating_sum').notNull().default(0),
    ratingHistogram: integer('rating_histogram')
      .array()
      .notNull()
      .default(sql`'{0,0,0,0,0}'::int[]`),
    activeEnrollmentCount: integer('active_enrollment_count').notNull().default(0),
    /** RATING order, descending: unrated courses (-1) last. */
    ratingOrderDesc: integer('rating_order_desc')
      .notNull()
      .generatedAlwaysAs(sql`coalesce(${RATING_RANK}, -1)`),
    /** RATING order, ascending: unrated courses (int4's maximum) last. */
    ratingOrderAsc: integer('rating_order_asc')
      .notNull()
      .generatedAlwaysAs(sql`coalesce(${RATING_RANK}, 2147483647)`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    searchVector: tsvector('search_vector').generatedAlwaysAs(
      sql`setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(description, '')), 'B')`,
    ),
  },
  (t) => [
    // RESTRICT: an instructor who still owns courses cannot be deleted by accident.
    foreignKey({ name: 'courses_instructor_id_fkey', columns: [t.instructorId], foreignColumns: [users.id] })
      .onDelete('restrict')
      .onUpdate('cascade'),
    foreignKey({ name: 'courses_category_id_fkey', columns: [t.categoryId], foreignColumns: [categories.id] })
      .onDelete('set null')
      .onUpdate('cascade'),
    uniqueIndex('courses_slug_key').on(t.slug),
    index('courses_category_id_created_at_id_idx').on(t.categoryId, t.createdAt, t.id),
    index('courses_rating_order_desc_id_idx').on(t.ratingOrderDesc, t.id),
    index('courses_rating_order_asc_id_idx').on(t.ratingOrderAsc, t.id),
    index('courses_active_enrollment_count_id_idx').on(t.activeEnrollmentCount, t.id),
    check('courses_rating_check', sql`${t.ratingCount} >= 0 and ${t.ratingSum} >= 0`),
    index('courses_instructor_id_created_at_idx').on(t.instructorId, t.createdAt, t.id),
    index('courses_created_at_id_idx').on(t.createdAt, t.id),
    index('courses_title_id_idx').on(t.title, t.id),
    index('courses_price_cents_id_idx').on(t.priceCents, t.id),
    index('courses_status_idx').on(t.status),
    index('courses_search_vector_idx').using('gin', t.searchVector),
    check('courses_price_cents_check', sql`${t.priceCents} >= 0`),
    check('courses_status_check', sql`${t.status} in ('DRAFT', 'PUBLISHED', 'ARCHIVED')`),
    check('courses_slug_check', sql`${t.slug} ~ '^[a-z0-9]+(-[a-z0-9]+)*$'`),
    check('courses_title_check', sql`char_length(${t.title}) between 1 and 200`),
  ],
);

/**
 * A course as reads load it: every column but `search_vector`, which only the catalog search
 * condition uses (in SQL); lists never carry it over the wire.
 */
export type CourseRow = Omit<typeof courses.$inferSelect, 'searchVector'>;

const { searchVector: _searchVector, ...courseReadColumns } = getTableColumns(courses);
/** The columns of a `CourseRow`, for `db.select(courseColumns)`. */
export const courseColumns = courseReadColumns;
export type NewCourseRow = typeof courses.$inferInsert;
