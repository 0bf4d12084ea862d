import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts, updatedAt } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';

export const LESSON_STATUSES = ['SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED'] as const;
export type LessonStatus = (typeof LESSON_STATUSES)[number];

export const lessons = pgTable(
  'lessons',
  {
    id: primaryId(),
    courseId: uuid('course_id').notNull(),
    title: text('title').notNull(),
    content: text('content').notNull().default(''),
    position: integer('position').notNull(),
    status: text('status', { enum: LESSON_STATUSES }).notNull().default('SCHEDULED'),
    scheduledAt: ts('scheduled_at'),
    durationMinutes: integer('duration_minutes'),
    startedAt: ts('started_at'),
    completedAt: ts('completed_at'),
    cancelledAt: ts('cancelled_at'),
    cancellationReason: text('cancellation_reason'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // CASCADE: a lesson has no meaning without its course (deleteCourse removes its lessons).
    foreignKey({ name: 'lessons_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    index('lessons_course_id_position_id_idx').on(t.courseId, t.position, t.id),
    index('lessons_course_id_status_idx').on(t.courseId, t.status),
    // User.schedule: lessons of a set of courses in a time window, by scheduledAt then id.
    index('lessons_course_id_scheduled_at_id_idx').on(t.courseId, t.scheduledAt, t.id),
    check('lessons_position_check', sql`${t.position} >= 0`),
    check('lessons_status_check', sql`${t.status} in ('SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')`),
    check(
      'lessons_duration_minutes_check',
      sql`${t.durationMinutes} is null or ${t.durationMinutes} between 1 and 1440`,
    ),
    check('lessons_title_check', sql`char_length(${t.title}) between 1 and 200`),
  ],
);

export type LessonRow = typeof lessons.$inferSelect;
export type NewLessonRow = typeof lessons.$inferInsert;
