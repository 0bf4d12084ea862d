import { hashPassword } from '../../auth/passwords.js';
import type { Db } from '../../db/client.js';
import { users } from '../../db/schema.js';
import type { Logger } from '../../logging/logger.js';
import { findUserByEmail } from './user.repository.js';

/**
 * Creates the admin named by ADMIN_EMAIL / ADMIN_PASSWORD when no user has that email.
 * An existing account is never changed (a restart must not reset a password someone changed).
 * Safe when several instances start at once: the unique email index settles the race.
 */
export async function ensureAdmin(db: Db, admin: { email: string; password: string }, log: Logger): Promise<void> {
  const email = admin.email.trim().toLowerCase();
  const existing = await findUserByEmail(db, email);
  if (existing) {
    if (existing.role !== 'ADMIN')
      log.warn({ email }, 'ADMIN_EMAIL belongs to an existing non-admin user; left unchanged');
    return;
  }
  const created = await db
    .insert(users)
    .values({ email, displayName: 'Administrator', role: 'ADMIN', passwordHash: await hashPassword(admin.password) })
    .onConflictDoNothing()
    .returning({ id: users.id });
  if (created.length) log.info({ email }, 'admin account created from ADMIN_EMAIL');
}
