import type { Db } from '../../db/client.js';
import type { EnrollmentRow, EntitlementRow } from '../../db/schema.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import {
  cancelActiveEnrollment,
  findActiveEntitlement,
  insertEnrollment,
  lockCourseStatus,
  reactivateLatestCancelled,
} from '../enrollments/index.js';
import type { EntitlementCommands } from './entitlement.commands.js';
import {
  findActiveEntitlementByPaymentIntent,
  findEntitlementBySession,
  hasActiveEnrollment,
  insertEntitlement,
  isStudent,
  lockPaymentIntent,
  recordStripeEvent,
  refundRecorded,
  revokeEntitlement,
} from './entitlement.repository.js';

/** A completed payment, as the webhook read it from a verified event. */
export interface CompletedPayment {
  eventId: string;
  eventType: string;
  sessionId: string;
  paymentIntentId: string | null;
  courseId: string;
  studentId: string;
}

/** A full refund of a PaymentIntent, as the webhook read it from a verified event. */
export interface Refund {
  eventId: string;
  eventType: string;
  paymentIntentId: string;
}

/** What handling an event did: the webhook logs it and answers 200 either way. */
export type Outcome = 'granted' | 'revoked' | 'replayed' | 'ignored';

/**
 * Payments turned into access, exactly once per Checkout Session. Each event is recorded by
 * id in the transaction that acts on it, so a redelivered event changes nothing; deliveries
 * of one course wait on its row lock (as enrolling does), deliveries of one PaymentIntent on
 * an advisory lock, so a refund handled before its session's completion still wins.
 */
export class PurchaseCommands {
  constructor(
    private readonly db: Db,
    private readonly access: EntitlementCommands,
    /** As EnrollmentCommands' own: a completion the student already meets is recorded on enrolling. */
    private readonly onActivated: (tx: Db, enrollment: EnrollmentRow) => Promise<unknown>,
  ) {}

  async completed(p: CompletedPayment): Promise<Outcome> {
    const result = await this.db.transaction(async (tx) => {
      if (p.paymentIntentId) await lockPaymentIntent(tx, p.paymentIntentId);
      const course = await lockCourseStatus(tx, p.courseId);
      const eventEntry = { id: p.eventId, type: p.eventType, paymentIntentId: p.paymentIntentId };
      if (!(await recordStripeEvent(tx, eventEntry))) return { outcome: 'replayed' as const };
      if (!course || !(await isStudent(tx, p.studentId))) return { outcome: 'ignored' as const };
      // Another event of the same session (Stripe may send more than one) already granted it.
      if (await findEntitlementBySession(tx, p.sessionId)) return { outcome: 'replayed' as const };
      const refunded = p.paymentIntentId !== null && (await refundRecorded(tx, p.paymentIntentId));
      // A student granted access before paying keeps that entitlement (one active per course).
      const active = await findActiveEntitlement(tx, p.studentId, p.courseId);
      if (active && !refunded) {
        const enrolled = course.status === 'PUBLISHED' ? await this.enroll(tx, active) : { enrolled: false };
        return { outcome: 'ignored' as const, row: active, ...enrolled };
      }
      const row = await insertEntitlement(tx, {
        courseId: p.courseId,
        studentId: p.studentId,
        source: 'PURCHASE',
        checkoutSessionId: p.sessionId,
        paymentIntentId: p.paymentIntentId,
      });
      if (refunded) {
        await revokeEntitlement(tx, row.id);
        return { outcome: 'ignored' as const };
      }
      const enrolled = course.status === 'PUBLISHED' ? await this.enroll(tx, row) : { enrolled: false };
      await appendToOutbox(tx, {
        type: 'course.access-granted',
        entitlementId: row.id,
        courseId: row.courseId,
        studentId: row.studentId,
        source: 'PURCHASE',
        occurredAt: row.grantedAt.toISOString(),
      });
      return { outcome: 'granted' as const, row, ...enrolled };
    });
    if ('row' in result && result.row) await this.access.changed(result.row, result.enrolled, result.enrolled);
    return result.outcome;
  }

  async refunded(r: Refund): Promise<Outcome> {
    const result = await this.db.transaction(async (tx) => {
      await lockPaymentIntent(tx, r.paymentIntentId);
      const found = await findActiveEntitlementByPaymentIntent(tx, r.paymentIntentId);
      // Course row first, as every other writer of entitlements and enrollments takes it.
      if (found) await lockCourseStatus(tx, found.courseId);
      const eventEntry = { id: r.eventId, type: r.eventType, paymentIntentId: r.paymentIntentId };
      if (!(await recordStripeEvent(tx, eventEntry))) return { outcome: 'replayed' as const };
      const row = found && (await revokeEntitlement(tx, found.id));
      if (!row) return { outcome: 'ignored' as const };
      const cancelled = await cancelActiveEnrollment(tx, row.studentId, row.courseId);
      return { outcome: 'revoked' as const, row, cancelled: cancelled !== undefined };
    });
    if (result.outcome === 'revoked') await this.access.changed(result.row, result.cancelled);
    return result.outcome;
  }

  /** Enrolls the entitled student unless already enrolled (under the course's row lock). */
  private async enroll(tx: Db, e: EntitlementRow): Promise<{ enrolled: boolean }> {
    if (await hasActiveEnrollment(tx, e.studentId, e.courseId)) return { enrolled: false };
    const enrollment =
      (await reactivateLatestCancelled(tx, e.studentId, e.courseId)) ??
      (await insertEnrollment(tx, e.studentId, e.courseId));
    await this.onActivated(tx, enrollment);
    return { enrolled: true };
  }
}
