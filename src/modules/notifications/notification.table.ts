import { sql } from 'drizzle-orm';
import { foreignKey, index, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { lessons } from '../lessons/lesson.table.js';
import { users } from '../users/user.table.js';

export const NOTIFICATION_KINDS = [
  'ENROLLMENT_CONFIRMED',
  'LESSON_SCHEDULED',
  'LESSON_RESCHEDULED',
  'LESSON_STARTED',
  'LESSON_COMPLETED',
  'LESSON_CANCELLED',
  'LESSON_REMINDER',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export const notificationKind = pgEnum('notification_kind', NOTIFICATION_KINDS);

export const notifications = pgTable(
  'notifications',
  {
    id: primaryId(),
    /** The domain event (outbox id, or a reminder's derived id) this notification tells of. */
    eventId: uuid('event_id').notNull(),
    recipientId: uuid('recipient_id').notNull(),
    kind: notificationKind('kind').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    courseId: uuid('course_id'),
    lessonId: uuid('lesson_id'),
    readAt: ts('read_at'),
    /** Set once the email for it was handed to the mail server; null while one is owed. */
    emailedAt: ts('emailed_at'),
    /** An email job has claimed this row until then (two jobs never mail the same row). */
    emailClaimedUntil: ts('email_claimed_until'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ name: 'notifications_recipient_id_fkey', columns: [t.recipientId], foreignColumns: [users.id] }).onDelete('cascade'),
    // The notification outlives what it tells of: a deleted course or lesson leaves it, unlinked.
    foreignKey({ name: 'notifications_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] }).onDelete('set null'),
    foreignKey({ name: 'notifications_lesson_id_fkey', columns: [t.lessonId], foreignColumns: [lessons.id] }).onDelete('set null'),
    // Exactly once: a job that runs twice (retry, stalled-job recovery, replayed outbox row)
    // inserts nothing the second time.
    uniqueIndex('notifications_event_recipient_key').on(t.eventId, t.recipientId),
    index('notifications_recipient_created_idx').on(t.recipientId, t.createdAt, t.id),
    index('notifications_recipient_unread_idx').on(t.recipientId, t.createdAt, t.id).where(sql`${t.readAt} is null`),
    index('notifications_course_id_idx').on(t.courseId),
    index('notifications_lesson_id_idx').on(t.lessonId),
    index('notifications_read_at_idx').on(t.readAt).where(sql`${t.readAt} is not null`),
    index('notifications_created_at_idx').on(t.createdAt),
    index('notifications_emailed_at_idx').on(t.emailedAt).where(sql`${t.emailedAt} is not null`),
    // Rows still owed an email: the email sweep finds them without reading the table.
    index('notifications_unmailed_idx').on(t.createdAt).where(sql`${t.emailedAt} is null`),
  ],
);

export type NotificationRow = typeof notifications.$inferSelect;
