import { foreignKey, index, pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { lessons } from '../lessons/lesson.table.js';
import { users } from '../users/user.table.js';

/**
 * A student's completion mark on a lesson. Independent of the enrollment row: unenrolling keeps
 * the marks, so re-enrolling restores progress. `course_id` is the lesson's course, copied so
 * progress and statistics aggregate per course without a join through lessons.
 */
export const lessonCompletions = pgTable(
  'lesson_completions',
  {
    studentId: uuid('student_id').notNull(),
    lessonId: uuid('lesson_id').notNull(),
    courseId: uuid('course_id').notNull(),
    completedAt: ts('completed_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'lesson_completions_pkey', columns: [t.studentId, t.lessonId] }),
    foreignKey({ name: 'lesson_completions_student_id_fkey', columns: [t.studentId], foreignColumns: [users.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    foreignKey({ name: 'lesson_completions_lesson_id_fkey', columns: [t.lessonId], foreignColumns: [lessons.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    foreignKey({ name: 'lesson_completions_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    // Progress per (course, student) and statistics per course.
    index('lesson_completions_course_id_student_id_idx').on(t.courseId, t.studentId),
    index('lesson_completions_lesson_id_idx').on(t.lessonId),
  ],
);

export type LessonCompletionRow = typeof lessonCompletions.$inferSelect;
