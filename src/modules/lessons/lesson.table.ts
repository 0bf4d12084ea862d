import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts, updatedAt } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { sections } from '../sections/section.table.js';

/**
 * Room for each section's lessons in `curriculum_key` (section rank × this + position): the
 * number of lessons a course may hold is kept below it.
 */
export const CURRICULUM_STRIDE = 65_536;

export const LESSON_STATUSES = ['SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED'] as const;
export type LessonStatus = (typeof LESSON_STATUSES)[number];

export const lessons = pgTable(
  'lessons',
  {
    id: primaryId(),
    courseId: uuid('course_id').notNull(),
    title: text('title').notNull(),
    content: text('content').notNull().default(''),
    /** From 0, contiguous within the lesson's section (or the course's no-section group). */
    position: integer('position').notNull(),
    /** null: no section (the group that comes before every section). */
    sectionId: uuid('section_id'),
    /** 0 without a section, else the section's position + 1: kept in step under the course's lock. */
    sectionRank: integer('section_rank').notNull().default(0),
    /** Curriculum order within the course, one indexed int: `Course.lessons` pages by it. */
    curriculumKey: integer('curriculum_key')
      .notNull()
      .generatedAlwaysAs(sql`section_rank * ${sql.raw(String(CURRICULUM_STRIDE))} + position`),
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
    // NO ACTION (checked at the statement's end): deleting a course takes sections and lessons
    // together; deleteSection itself refuses while the section holds lessons.
    foreignKey({ name: 'lessons_section_id_fkey', columns: [t.sectionId], foreignColumns: [sections.id] }),
    index('lessons_course_id_position_id_idx').on(t.courseId, t.position, t.id),
    index('lessons_course_id_curriculum_key_id_idx').on(t.courseId, t.curriculumKey, t.id),
    index('lessons_section_id_position_id_idx').on(t.sectionId, t.position, t.id),
    check(
      'lessons_section_rank_check',
      sql`${t.sectionRank} >= 0 and ${t.position} < ${sql.raw(String(CURRICULUM_STRIDE))}`,
    ),
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
