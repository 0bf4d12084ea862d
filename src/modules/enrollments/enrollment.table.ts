import { sql } from 'drizzle-orm';
import { check, foreignKey, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts, updatedAt } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { users } from '../users/user.table.js';

export const ENROLLMENT_STATUSES = ['ACTIVE', 'CANCELLED'] as const;
export type EnrollmentStatus = (typeof ENROLLMENT_STATUSES)[number];

export const enrollments = pgTable(
  'enrollments',
  {
    id: primaryId(),
    studentId: uuid('student_id').notNull(),
    courseId: uuid('course_id').notNull(),
    status: text('status', { enum: ENROLLMENT_STATUSES }).notNull().default('ACTIVE'),
    enrolledAt: ts('enrolled_at').notNull().defaultNow(),
    cancelledAt: ts('cancelled_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // CASCADE on both sides: an enrollment is owned by the pair. Deleting a course with ACTIVE
    // enrollments is refused by the service; cancelled ones go with it.
    foreignKey({ name: 'enrollments_student_id_fkey', columns: [t.studentId], foreignColumns: [users.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    foreignKey({ name: 'enrollments_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    // At most one ACTIVE enrollment per student and course: the database, not a
    // check-then-insert, decides who wins a race.
    uniqueIndex('enrollments_active_student_course_key')
      .on(t.studentId, t.courseId)
      .where(sql`${t.status} = 'ACTIVE'`),
    index('enrollments_student_id_enrolled_at_idx').on(t.studentId, t.enrolledAt, t.id),
    index('enrollments_course_id_enrolled_at_idx').on(t.courseId, t.enrolledAt, t.id),
    check('enrollments_status_check', sql`${t.status} in ('ACTIVE', 'CANCELLED')`),
    check('enrollments_cancelled_at_check', sql`(${t.status} = 'CANCELLED') = (${t.cancelledAt} is not null)`),
  ],
);

export type EnrollmentRow = typeof enrollments.$inferSelect;
export type NewEnrollmentRow = typeof enrollments.$inferInsert;
