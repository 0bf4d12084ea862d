import { sql } from 'drizzle-orm';
import { customType, foreignKey, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { primaryId, ts } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { enrollments } from '../enrollments/enrollment.table.js';
import { users } from '../users/user.table.js';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * One certificate per enrollment, ever (the unique key is what makes issuing exactly once).
 * The PDF is stored with the row: a few KiB each, written in the same transaction as the
 * row, so a certificate never exists without its document, and backups carry both.
 * `student_name` and `course_title` are as printed at issue time.
 */
export const certificates = pgTable(
  'certificates',
  {
    id: primaryId(),
    code: text('code').notNull(),
    enrollmentId: uuid('enrollment_id').notNull(),
    courseId: uuid('course_id').notNull(),
    studentId: uuid('student_id').notNull(),
    studentName: text('student_name').notNull(),
    courseTitle: text('course_title').notNull(),
    issuedAt: ts('issued_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
    revokeReason: text('revoke_reason'),
    pdf: bytea('pdf').notNull(),
  },
  (t) => [
    foreignKey({
      name: 'certificates_enrollment_id_fkey',
      columns: [t.enrollmentId],
      foreignColumns: [enrollments.id],
    }).onDelete('cascade'),
    foreignKey({ name: 'certificates_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] }).onDelete(
      'cascade',
    ),
    foreignKey({
      name: 'certificates_student_id_fkey',
      columns: [t.studentId],
      foreignColumns: [users.id],
    }).onDelete('cascade'),
    uniqueIndex('certificates_enrollment_id_key').on(t.enrollmentId),
    // Re-enrolling does not earn a second certificate for the same course.
    uniqueIndex('certificates_course_student_key').on(t.courseId, t.studentId),
    uniqueIndex('certificates_code_key').on(t.code),
    index('certificates_student_id_issued_at_idx').on(t.studentId, t.issuedAt),
    index('certificates_course_id_idx')
      .on(t.courseId)
      .where(sql`${t.revokedAt} is null`),
  ],
);

export type CertificateRow = typeof certificates.$inferSelect;
