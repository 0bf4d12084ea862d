import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { deleteInBatches } from '../db/delete-in-batches.js';
import type { OutboxEvent } from './domain-events.js';
import { outbox } from './outbox.table.js';

/**
 * Records a domain event in the caller's transaction: it commits with the change or not at
 * all. Nothing else is needed from the caller; the relay notices the commit (a trigger sends
 * NOTIFY) and delivers the event to the job queue, even if Redis is down right now.
 */
export async function appendToOutbox(tx: Db, event: OutboxEvent): Promise<void> {
  await tx.insert(outbox).values({ type: event.type, payload: event });
}

/** The event's fan-out is planned in Postgres: the relay's sweep leaves it alone from now on. */
export async function markOutboxProcessed(db: Db, eventId: string): Promise<void> {
  await db.update(outbox).set({ processedAt: new Date() }).where(eq(outbox.id, eventId));
}

/** Processed rows are kept `days` days for inspection, then dropped (in batches). */
export function deleteProcessedOutbox(db: Db, days: number): Promise<number> {
  return deleteInBatches(db, outbox, outbox.seq, sql`${outbox.processedAt} < now() - make_interval(days => ${days})`);
}
