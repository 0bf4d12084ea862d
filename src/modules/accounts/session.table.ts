import { sql } from 'drizzle-orm';
import { check, foreignKey, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts } from '../../db/columns.js';
import { users } from '../users/user.table.js';

/**
 * A refresh-session family: one sign-in on one device. Every refresh rotates its token;
 * revoking the family (logout, reuse of a rotated token, password change) ends them all.
 */
export const authSessions = pgTable(
  'auth_sessions',
  {
    id: primaryId(),
    userId: uuid('user_id').notNull(),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
    lastUsedAt: ts('last_used_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
    revokedReason: text('revoked_reason'),
    userAgent: text('user_agent'),
  },
  (t) => [
    // CASCADE: a session means nothing without its user.
    foreignKey({ name: 'auth_sessions_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    index('auth_sessions_user_id_idx').on(t.userId),
    index('auth_sessions_expires_at_idx').on(t.expiresAt),
    // Every instance reads the recently revoked sessions each second (auth/revocations.ts).
    index('auth_sessions_revoked_at_idx').on(t.revokedAt),
    check('auth_sessions_revoked_check', sql`(${t.revokedAt} is null) = (${t.revokedReason} is null)`),
  ],
);

/** Refresh tokens are stored only as SHA-256 hashes; the random value itself never is. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: primaryId(),
    sessionId: uuid('session_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    /** Set when the token is exchanged; presenting it again is reuse. */
    rotatedAt: ts('rotated_at'),
  },
  (t) => [
    foreignKey({ name: 'refresh_tokens_session_id_fkey', columns: [t.sessionId], foreignColumns: [authSessions.id] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    uniqueIndex('refresh_tokens_token_hash_key').on(t.tokenHash),
    index('refresh_tokens_session_id_idx').on(t.sessionId),
  ],
);

export type AuthSessionRow = typeof authSessions.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
