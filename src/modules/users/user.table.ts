import { getTableColumns, sql } from 'drizzle-orm';
import { check, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { ROLES } from '../../auth/role.js';
import { createdAt, primaryId, ts, updatedAt } from '../../db/columns.js';

export type { Role } from '../../auth/role.js';

export const users = pgTable(
  'users',
  {
    id: primaryId(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    displayName: text('display_name').notNull(),
    role: text('role', { enum: ROLES }).notNull().default('STUDENT'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** When the role last changed: access tokens issued before it are refused (auth/revocations.ts). */
    roleChangedAt: ts('role_changed_at'),
    /** The role before that change (after a promotion, tokens with it stay valid). */
    previousRole: text('previous_role', { enum: ROLES }),
    /** When the current email address was verified (cleared if the address ever changes). */
    emailVerifiedAt: ts('email_verified_at'),
  },
  (t) => [
    // Emails are stored lower-cased; the index on lower() makes that a database guarantee.
    uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
    index('users_created_at_id_idx').on(t.createdAt, t.id),
    index('users_role_idx').on(t.role),
    index('users_role_changed_at_idx').on(t.roleChangedAt),
    check('users_role_check', sql`${t.role} in ('ADMIN', 'INSTRUCTOR', 'STUDENT')`),
    check('users_display_name_check', sql`char_length(${t.displayName}) between 1 and 100`),
  ],
);

/**
 * A user as reads load it: every column but `password_hash`, which only the accounts code
 * that checks or changes a password selects (`UserWithPassword`).
 */
export type UserRow = Omit<typeof users.$inferSelect, 'passwordHash'>;
export type UserWithPassword = typeof users.$inferSelect;

const { passwordHash: _passwordHash, ...userReadColumns } = getTableColumns(users);
/** The columns of a `UserRow`, for `db.select(userColumns)`. */
export const userColumns = userReadColumns;
export type NewUserRow = typeof users.$inferInsert;
