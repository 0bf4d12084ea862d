import { sql } from 'drizzle-orm';
import { check, foreignKey, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts } from '../../db/columns.js';
import { users } from '../users/user.table.js';

export const ACCOUNT_TOKEN_PURPOSES = ['PASSWORD_RESET', 'EMAIL_VERIFICATION'] as const;
export type AccountTokenPurpose = (typeof ACCOUNT_TOKEN_PURPOSES)[number];

/**
 * One-time tokens sent by email (password reset, email verification). A request inserts the
 * row and its outbox event in one transaction; the worker mints the random token, stores only
 * its SHA-256 hash, emails it and stamps `emailed_at`. Using it stamps `used_at` (single use).
 */
export const accountTokens = pgTable(
  'account_tokens',
  {
    id: primaryId(),
    userId: uuid('user_id').notNull(),
    purpose: text('purpose', { enum: ACCOUNT_TOKEN_PURPOSES }).notNull(),
    /** The address it is sent to: a verification verifies exactly this address. */
    email: text('email').notNull(),
    /** Null until the worker mints the token. */
    tokenHash: text('token_hash'),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
    emailedAt: ts('emailed_at'),
    usedAt: ts('used_at'),
  },
  (t) => [
    foreignKey({ name: 'account_tokens_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    uniqueIndex('account_tokens_token_hash_key').on(t.tokenHash),
    index('account_tokens_user_id_purpose_idx').on(t.userId, t.purpose),
    index('account_tokens_expires_at_idx').on(t.expiresAt),
    check('account_tokens_purpose_check', sql`${t.purpose} in ('PASSWORD_RESET', 'EMAIL_VERIFICATION')`),
  ],
);

export type AccountTokenRow = typeof accountTokens.$inferSelect;
