import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from '../db/columns.js';

/**
 * The transactional outbox: a mutation inserts its domain event here in the same transaction
 * as the change, so the event exists exactly when the change does. The relay moves committed
 * rows to the job queue and stamps `relayed_at`. `seq` orders relaying; `id` is the event id
 * (it names the queue job and keys notifications, so a replay creates nothing twice).
 */
export const outbox = pgTable(
  'outbox',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: createdAt(),
    relayedAt: ts('relayed_at'),
  },
  (t) => [
    // The relay reads pending rows in order; once relayed a row leaves this small index.
    index('outbox_pending_idx').on(t.seq).where(sql`${t.relayedAt} is null`),
    index('outbox_relayed_at_idx').on(t.relayedAt),
  ],
);

export type OutboxRow = typeof outbox.$inferSelect;
