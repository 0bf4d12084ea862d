import { sql } from 'drizzle-orm';
import { check, foreignKey, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { users } from '../users/user.table.js';

export const ENTITLEMENT_SOURCES = ['PURCHASE', 'GRANT'] as const;
export type EntitlementSource = (typeof ENTITLEMENT_SOURCES)[number];

export const entitlements = pgTable(
  'entitlements',
  {
    id: primaryId(),
    courseId: uuid('course_id').notNull(),
    studentId: uuid('student_id').notNull(),
    source: text('source', { enum: ENTITLEMENT_SOURCES }).notNull(),
    /** The instructor or admin who granted it (GRANT). */
    grantedBy: uuid('granted_by'),
    /** The Checkout Session that paid for it (PURCHASE): one entitlement per session, ever. */
    checkoutSessionId: text('checkout_session_id'),
    /** The session's PaymentIntent: a refund names it. */
    paymentIntentId: text('payment_intent_id'),
    grantedAt: ts('granted_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ name: 'entitlements_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    foreignKey({ name: 'entitlements_student_id_fkey', columns: [t.studentId], foreignColumns: [users.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    foreignKey({ name: 'entitlements_granted_by_fkey', columns: [t.grantedBy], foreignColumns: [users.id] })
      .onDelete('set null')
      .onUpdate('cascade'),
    // At most one active entitlement per student and course.
    uniqueIndex('entitlements_active_student_course_key')
      .on(t.studentId, t.courseId)
      .where(sql`${t.revokedAt} is null`),
    uniqueIndex('entitlements_checkout_session_id_key').on(t.checkoutSessionId),
    index('entitlements_payment_intent_id_idx').on(t.paymentIntentId),
    index('entitlements_course_id_idx').on(t.courseId),
    index('entitlements_granted_by_idx').on(t.grantedBy),
    check('entitlements_source_check', sql`${t.source} in ('PURCHASE', 'GRANT')`),
  ],
);

export type EntitlementRow = typeof entitlements.$inferSelect;
export type NewEntitlementRow = typeof entitlements.$inferInsert;

/** Stripe events already handled, by event id: a redelivered event changes nothing. */
export const stripeEvents = pgTable(
  'stripe_events',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    /**
     * The PaymentIntent the event is about: a refund recorded before its session's completion
     * (deliveries arrive in any order) makes that completion grant nothing.
     */
    paymentIntentId: text('payment_intent_id'),
    receivedAt: ts('received_at').notNull().defaultNow(),
  },
  (t) => [index('stripe_events_payment_intent_id_type_idx').on(t.paymentIntentId, t.type)],
);
