import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { deleteInBatches } from '../../db/delete-in-batches.js';
import { accountTokens, users, type AccountTokenPurpose, type AccountTokenRow } from '../../db/schema.js';

/** 256 random bits, prefixed so secret scanners can recognise a leaked EduFlow token. */
function newAccountToken(): string {
  return `efat_${randomBytes(32).toString('base64url')}`;
}

function hashAccountToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export async function insertAccountToken(
  tx: Db,
  values: { userId: string; purpose: AccountTokenPurpose; email: string; ttlMs: number },
): Promise<AccountTokenRow> {
  const [row] = await tx
    .insert(accountTokens)
    .values({
      userId: values.userId,
      purpose: values.purpose,
      email: values.email,
      expiresAt: new Date(Date.now() + values.ttlMs),
    })
    .returning();
  return row!;
}

/** Links of a purpose still usable (not used, not expired) for a user. */
export async function countLiveAccountTokens(tx: Db, userId: string, purpose: AccountTokenPurpose): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(accountTokens)
    .where(
      and(
        eq(accountTokens.userId, userId),
        eq(accountTokens.purpose, purpose),
        isNull(accountTokens.usedAt),
        gt(accountTokens.expiresAt, sql`now()`),
      ),
    );
  return row?.n ?? 0;
}

/**
 * The worker's step before sending: a fresh random token for a request not yet emailed, used or
 * expired, its hash stored in place of any earlier one (a retry after a crash mid-send makes the
 * earlier link dead). Null when there is nothing to send.
 */
export async function mintAccountToken(
  db: Db,
  id: string,
): Promise<{ token: string; row: AccountTokenRow; displayName: string } | null> {
  const token = newAccountToken();
  const [row] = await db
    .update(accountTokens)
    .set({ tokenHash: hashAccountToken(token) })
    .where(
      and(
        eq(accountTokens.id, id),
        isNull(accountTokens.emailedAt),
        isNull(accountTokens.usedAt),
        gt(accountTokens.expiresAt, sql`now()`),
      ),
    )
    .returning();
  if (!row) return null;
  const [user] = await db.select({ displayName: users.displayName }).from(users).where(eq(users.id, row.userId));
  return user ? { token, row, displayName: user.displayName } : null;
}

export async function markAccountTokenEmailed(db: Db, id: string): Promise<void> {
  await db.update(accountTokens).set({ emailedAt: new Date() }).where(eq(accountTokens.id, id));
}

/** An unused, unexpired token of this purpose; undefined for anything else. */
export async function findUsableAccountToken(
  db: Db,
  purpose: AccountTokenPurpose,
  token: string,
): Promise<AccountTokenRow | undefined> {
  const [row] = await db
    .select()
    .from(accountTokens)
    .where(
      and(
        eq(accountTokens.tokenHash, hashAccountToken(token)),
        eq(accountTokens.purpose, purpose),
        isNull(accountTokens.usedAt),
        gt(accountTokens.expiresAt, sql`now()`),
      ),
    );
  return row;
}

/** Uses the token: true for exactly one of any concurrent callers, while it is still valid. */
export async function consumeAccountToken(tx: Db, id: string): Promise<boolean> {
  const rows = await tx
    .update(accountTokens)
    .set({ usedAt: new Date() })
    .where(and(eq(accountTokens.id, id), isNull(accountTokens.usedAt), gt(accountTokens.expiresAt, sql`now()`)))
    .returning({ id: accountTokens.id });
  return rows.length === 1;
}

/** Every other outstanding token of this purpose for the user dies too (after a reset). */
export async function retireAccountTokens(tx: Db, userId: string, purpose: AccountTokenPurpose): Promise<void> {
  await tx
    .update(accountTokens)
    .set({ usedAt: new Date() })
    .where(and(eq(accountTokens.userId, userId), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt)));
}

/** Tokens expired more than `days` ago are of no use, even for diagnosis. */
export function deleteExpiredAccountTokens(db: Db, days = 7): Promise<number> {
  return deleteInBatches(
    db,
    accountTokens,
    accountTokens.id,
    lt(accountTokens.expiresAt, sql`now() - make_interval(days => ${days})`),
  );
}
