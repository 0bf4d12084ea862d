import { bigint, foreignKey, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { LESSON_STATUSES } from './lesson.table.js';

/**
 * The durable, ordered log behind `lessonStatusChanged(after:)`: one row per lesson creation or
 * status change, written in the transaction that made it. `seq` is the event's cursor (strictly
 * increasing per deployment). Rows are kept LESSON_EVENT_RETENTION_DAYS (at least one day).
 * No foreign key to the lesson: a deleted lesson's history still replays in order.
 * `prevSeq` chains each course's events: the `seq` of the course's event before this one (null:
 * its first), set in the writing transaction under the course's row lock, so that a live
 * receiver that gets an event whose predecessor it never got knows one was lost.
 */
export const lessonEvents = pgTable(
  'lesson_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    courseId: uuid('course_id').notNull(),
    lessonId: uuid('lesson_id').notNull(),
    previousStatus: text('previous_status', { enum: LESSON_STATUSES }),
    status: text('status', { enum: LESSON_STATUSES }).notNull(),
    changedAt: ts('changed_at').notNull(),
    changedById: uuid('changed_by_id').notNull(),
    prevSeq: bigint('prev_seq', { mode: 'number' }),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ name: 'lesson_events_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    // Replay of one course (or of several) after a cursor.
    index('lesson_events_course_id_seq_idx').on(t.courseId, t.seq),
    index('lesson_events_created_at_idx').on(t.createdAt),
  ],
);

export type LessonEventRow = typeof lessonEvents.$inferSelect;
