import { sql } from 'drizzle-orm';
import { foreignKey, index, jsonb, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
  'WELCOME',
  'CERTIFICATE_ISSUED',
  'REVIEW_POSTED',
  'COURSE_ACCESS_GRANTED',
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
    /**
     * An email run has claimed this row until then (two runs never mail the same row). The
     * claim is a lease as long as a job lock, renewed while its run is alive: a crashed run's
     * claims run out about when its job is taken over.
     */
    emailClaimedUntil: ts('email_claimed_until'),
    /** The run (a random id per email job run) holding the claim: only it renews or releases it. */
    emailClaimedBy: uuid('email_claimed_by'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({
      name: 'notifications_recipient_id_fkey',
      columns: [t.recipientId],
      foreignColumns: [users.id],
    }).onDelete('cascade'),
    // The notification outlives what it tells of: a deleted course or lesson leaves it, unlinked.
    foreignKey({ name: 'notifications_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] }).onDelete(
      'set null',
    ),
    foreignKey({ name: 'notifications_lesson_id_fkey', columns: [t.lessonId], foreignColumns: [lessons.id] }).onDelete(
      'set null',
    ),
    // Exactly once: a job that runs twice (retry, stalled-job recovery, replayed outbox row)
    // inserts nothing the second time.
    uniqueIndex('notifications_event_recipient_key').on(t.eventId, t.recipientId),
    index('notifications_recipient_created_idx').on(t.recipientId, t.createdAt, t.id),
    index('notifications_recipient_unread_idx')
      .on(t.recipientId, t.createdAt, t.id)
      .where(sql`${t.readAt} is null`),
    index('notifications_course_id_idx').on(t.courseId),
    index('notifications_lesson_id_idx').on(t.lessonId),
    index('notifications_read_at_idx')
      .on(t.readAt)
      .where(sql`${t.readAt} is not null`),
    index('notifications_created_at_idx').on(t.createdAt),
    index('notifications_emailed_at_idx')
      .on(t.emailedAt)
      .where(sql`${t.emailedAt} is not null`),
    // Rows still owed an email: the email sweep finds them without reading the table.
    index('notifications_unmailed_idx')
      .on(t.createdAt)
      .where(sql`${t.emailedAt} is null`),
  ],
);

export type NotificationRow = typeof notifications.$inferSelect;

/**
 * An event's fan-out plan, one row per batch of recipients: the record of what is still owed.
 * The event job writes the plan before it stamps the outbox row processed; a batch is done
 * once its notifications exist (and mailed once its email job found nothing left to send).
 * The queue only carries the work: a batch job lost with Redis data is queued again by the
 * sweep, from these rows.
 */
export const notificationBatches = pgTable(
  'notification_batches',
  {
    id: primaryId(),
    eventId: uuid('event_id').notNull(),
    /** The domain event itself (reminders have no outbox row to read it from). */
    event: jsonb('event').notNull(),
    /** Recipients by id: from inclusive, to exclusive, null meaning unbounded. */
    rangeFrom: uuid('range_from'),
    rangeTo: uuid('range_to'),
    createdAt: createdAt(),
    /** When its job was last put on the queue (the sweep re-queues what stays unfinished). */
    queuedAt: ts('queued_at').notNull().defaultNow(),
    /** Its notifications exist (and its email job was queued). */
    doneAt: ts('done_at'),
    /** Its email job found nothing left to mail. */
    mailedAt: ts('mailed_at'),
  },
  (t) => [
    index('notification_batches_event_id_idx').on(t.eventId),
    // Unfinished batches, for the sweep: small, as finished rows leave it.
    index('notification_batches_unfinished_idx')
      .on(t.queuedAt)
      .where(sql`${t.mailedAt} is null`),
    index('notification_batches_created_at_idx').on(t.createdAt),
  ],
);

export type NotificationBatchRow = typeof notificationBatches.$inferSelect;
