import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from '../db/columns.js';

/**
 * The transactional outbox: a mutation inserts its domain event here in the same transaction
 * as the change, so the event exists exactly when the change does. The relay moves committed
 * rows to the job queue and stamps `relayed_at`; the event job stamps `processed_at` once the
 * event's batches are planned in `notification_batches`, which are the record from then on
 * (the batch sweep re-queues what the queue lost). Until then a relayed row that is not
 * processed in time (its job lost with Redis data, or out of attempts) is queued again. `seq`
 * orders relaying; `id` is the event id (it names the queue job and keys notifications, so a
 * replay creates nothing twice).
 */
export const outbox = pgTable(
  'outbox',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: uuid('id')
      .notNull()
      .default(sql`gen_random_uuid()`),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: createdAt(),
    relayedAt: ts('relayed_at'),
    /** How many times the relay queued it (a re-queue gets a fresh job id). */
    relayCount: integer('relay_count').notNull().default(0),
    /** Set once its fan-out is planned in notification_batches; relayed rows without it are re-queued later. */
    processedAt: ts('processed_at'),
  },
  (t) => [
    // The relay reads pending rows in order; once relayed a row leaves this small index.
    index('outbox_pending_idx')
      .on(t.seq)
      .where(sql`${t.relayedAt} is null`),
    uniqueIndex('outbox_id_key').on(t.id),
    index('outbox_relayed_at_idx').on(t.relayedAt),
    // Relayed but never processed (lost in Redis, or every attempt failed): the relay's sweep.
    index('outbox_unprocessed_idx')
      .on(t.relayedAt)
      .where(sql`${t.processedAt} is null and ${t.relayedAt} is not null`),
  ],
);

export type OutboxRow = typeof outbox.$inferSelect;
