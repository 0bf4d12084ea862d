import { and, eq, isNull, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import type { Db } from '../../db/client.js';
import {
  enrollments,
  entitlements,
  stripeEvents,
  type EntitlementRow,
  type EntitlementSource,
  users,
} from '../../db/schema.js';

export function findEntitlementsByIds(db: Db, ids: string[]): Promise<EntitlementRow[]> {
  return db.select().from(entitlements).where(anyUuid(entitlements.id, ids));
}

export async function insertEntitlement(
  db: Db,
  values: {
    courseId: string;
    studentId: string;
    source: EntitlementSource;
    grantedBy?: string | null;
    checkoutSessionId?: string | null;
    paymentIntentId?: string | null;
  },
): Promise<EntitlementRow> {
  const [row] = await db.insert(entitlements).values(values).returning();
  return row!;
}

export async function findEntitlementBySession(db: Db, sessionId: string): Promise<EntitlementRow | undefined> {
  const [row] = await db.select().from(entitlements).where(eq(entitlements.checkoutSessionId, sessionId));
  return row;
}

export async function findActiveEntitlementByPaymentIntent(
  db: Db,
  paymentIntentId: string,
): Promise<EntitlementRow | undefined> {
  const [row] = await db
    .select()
    .from(entitlements)
    .where(and(eq(entitlements.paymentIntentId, paymentIntentId), isNull(entitlements.revokedAt)));
  return row;
}

export async function revokeEntitlement(db: Db, id: string): Promise<EntitlementRow | undefined> {
  const [row] = await db
    .update(entitlements)
    .set({ revokedAt: new Date() })
    .where(and(eq(entitlements.id, id), isNull(entitlements.revokedAt)))
    .returning();
  return row;
}

/** Records a Stripe event by id; false when it was recorded before (a redelivery). */
export async function recordStripeEvent(
  db: Db,
  event: { id: string; type: string; paymentIntentId: string | null },
): Promise<boolean> {
  const rows = await db
    .insert(stripeEvents)
    .values(event)
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  return rows.length > 0;
}

/** Whether a full refund of the PaymentIntent was recorded (perhaps before its session completed). */
export async function refundRecorded(db: Db, paymentIntentId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: stripeEvents.id })
    .from(stripeEvents)
    .where(and(eq(stripeEvents.paymentIntentId, paymentIntentId), eq(stripeEvents.type, 'charge.refunded')))
    .limit(1);
  return row !== undefined;
}

/**
 * Serialises the handling of one PaymentIntent's events (its completion and its refund) until
 * the transaction ends, whatever order and concurrency they arrive in.
 */
export async function lockPaymentIntent(db: Db, paymentIntentId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${'stripe-payment:' + paymentIntentId}, 0))`);
}

/** Whether the student holds an ACTIVE enrollment in the course (read under the course's row lock). */
export async function hasActiveEnrollment(db: Db, studentId: string, courseId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: enrollments.id })
    .from(enrollments)
    .where(
      and(eq(enrollments.studentId, studentId), eq(enrollments.courseId, courseId), eq(enrollments.status, 'ACTIVE')),
    );
  return row !== undefined;
}

/** Whether the user exists and holds the STUDENT role (only students take entitlements). */
export async function isStudent(db: Db, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.role, 'STUDENT')));
  return row !== undefined;
}
