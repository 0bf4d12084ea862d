import { sql } from 'drizzle-orm';
import { index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from '../db/columns.js';

/**
 * Client mutation ids of creating mutations, remembered for a day: written in the same
 * transaction as what the mutation created, so a retry after an ambiguous answer (a 503 while
 * the COMMIT went through) finds what the first attempt made instead of making it again.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: uuid('user_id').notNull(),
    /** The mutation's name (`createLesson`): one id may be reused across mutations. */
    operation: text('operation').notNull(),
    key: text('key').notNull(),
    /** What the first attempt created. */
    entityId: uuid('entity_id').notNull(),
    /**
     * sha256 of the first attempt's input (`inputFingerprint`): a replay must send the same, or
     * it is a CONFLICT (as Stripe answers a key reused with other parameters). Null on keys
     * written before it was recorded.
     */
    fingerprint: text('fingerprint'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [t.userId, t.operation, t.key] }),
    index('idempotency_keys_created_at_idx').on(t.createdAt),
  ],
);

export const IDEMPOTENCY_KEY_DAYS = 1;
export const idempotencyKeyFresh = sql`now() - make_interval(days => ${IDEMPOTENCY_KEY_DAYS})`;
