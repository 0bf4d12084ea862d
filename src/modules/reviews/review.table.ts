import { sql } from 'drizzle-orm';
import { boolean, check, foreignKey, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts, updatedAt } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { users } from '../users/user.table.js';

export const reviews = pgTable(
  'reviews',
  {
    id: primaryId(),
    courseId: uuid('course_id').notNull(),
    authorId: uuid('author_id').notNull(),
    rating: integer('rating').notNull(),
    body: text('body'),
    instructorReply: text('instructor_reply'),
    instructorRepliedAt: ts('instructor_replied_at'),
    hidden: boolean('hidden').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({ name: 'reviews_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    foreignKey({ name: 'reviews_author_id_fkey', columns: [t.authorId], foreignColumns: [users.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    // One review per student and course: concurrent first writes meet here, not in a check.
    uniqueIndex('reviews_course_id_author_id_key').on(t.courseId, t.authorId),
    index('reviews_course_id_created_at_id_idx').on(t.courseId, t.createdAt, t.id),
    index('reviews_course_id_rating_id_idx').on(t.courseId, t.rating, t.id),
    index('reviews_author_id_idx').on(t.authorId),
    check('reviews_rating_check', sql`${t.rating} between 1 and 5`),
    check('reviews_body_check', sql`char_length(${t.body}) <= 5000`),
    check('reviews_instructor_reply_check', sql`char_length(${t.instructorReply}) <= 2000`),
  ],
);

export type ReviewRow = typeof reviews.$inferSelect;
