import { and, eq, isNull } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import type { Db } from '../../db/client.js';
import { entitlements, stripeEvents, type EntitlementRow, type EntitlementSource } from '../../db/schema.js';

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

export async function revokeEntitlement(db: Db, id: string): Promise<EntitlementRow> {
  const [row] = await db
    .update(entitlements)
    .set({ revokedAt: new Date() })
    .where(and(eq(entitlements.id, id), isNull(entitlements.revokedAt)))
    .returning();
  return row!;
}

/** Records a Stripe event by id; false when it was recorded before (a redelivery). */
export async function recordStripeEvent(db: Db, id: string, type: string): Promise<boolean> {
  const rows = await db
    .insert(stripeEvents)
    .values({ id, type })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  return rows.length > 0;
}
