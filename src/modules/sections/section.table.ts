import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, updatedAt } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';

export const sections = pgTable(
  'sections',
  {
    id: primaryId(),
    courseId: uuid('course_id').notNull(),
    title: text('title').notNull(),
    /** From 0, contiguous within the course (kept so under the course's row lock). */
    position: integer('position').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({ name: 'sections_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    index('sections_course_id_position_idx').on(t.courseId, t.position, t.id),
    check('sections_position_check', sql`${t.position} >= 0`),
    check('sections_title_check', sql`char_length(${t.title}) between 1 and 200`),
  ],
);

export type SectionRow = typeof sections.$inferSelect;
