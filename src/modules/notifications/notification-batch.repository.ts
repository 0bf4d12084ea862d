import { and, eq, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import { deleteInBatches } from '../../db/delete-in-batches.js';
import type { Db } from '../../db/client.js';
import { notificationBatches, type NotificationBatchRow } from '../../db/schema.js';
import type { DomainEvent } from '../../outbox/domain-events.js';
import type { RecipientRange } from '../../queue/jobs.js';

/**
 * The event's batches, planned once: the existing plan when there is one (a re-run or a
 * re-relayed event), otherwise `plan()`'s ranges, written now. Two first runs racing may both
 * write a plan; overlapping batches are harmless (inserts and email claims are idempotent).
 */
export async function planBatches(
  db: Db,
  eventId: string,
  event: DomainEvent,
  plan: () => Promise<RecipientRange[]>,
): Promise<NotificationBatchRow[]> {
  const existing = await db.select().from(notificationBatches).where(eq(notificationBatches.eventId, eventId));
  if (existing.length) return existing;
  const ranges = await plan();
  return db
    .insert(notificationBatches)
    .values(ranges.map((r) => ({ eventId, event, rangeFrom: r.from, rangeTo: r.to })))
    .returning();
}

/** The batch's notifications exist: it leaves the sweep's notice (until its emails). */
export async function markBatchDone(db: Db, id: string): Promise<void> {
  await db
    .update(notificationBatches)
    .set({ doneAt: sql`now()` })
    .where(eq(notificationBatches.id, id));
}

/** The batch's email job found nothing left to mail: the batch is finished. */
export async function markBatchMailed(db: Db, id: string): Promise<void> {
  await db
    .update(notificationBatches)
    .set({ mailedAt: sql`now()` })
    .where(eq(notificationBatches.id, id));
}

/**
 * Batches unfinished although their job was queued more than `olderThanMs` ago (lost with
 * Redis data, or out of attempts), stamped queued again now; the caller queues their jobs.
 */
export async function takeStaleBatches(db: Db, olderThanMs: number, limit: number): Promise<NotificationBatchRow[]> {
  const stale = db
    .select({ id: notificationBatches.id })
    .from(notificationBatches)
    .where(
      and(
        isNull(notificationBatches.mailedAt),
        lt(notificationBatches.queuedAt, sql`now() - make_interval(secs => ${olderThanMs / 1000})`),
      ),
    )
    .orderBy(notificationBatches.queuedAt)
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(notificationBatches)
    .set({ queuedAt: sql`now()` })
    .where(inArray(notificationBatches.id, stale))
    .returning();
}

/** Finished batches older than `days` days, in bounded batches. */
export function deleteFinishedBatches(db: Db, days: number): Promise<number> {
  return deleteInBatches(
    db,
    notificationBatches,
    notificationBatches.id,
    and(
      isNotNull(notificationBatches.mailedAt),
      lt(notificationBatches.createdAt, sql`now() - make_interval(days => ${days})`),
    )!,
  );
}
