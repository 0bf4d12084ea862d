import { and, eq, gt, lt, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../db/client.js';
import { idempotencyKeyFresh, idempotencyKeys } from './idempotency.table.js';

export interface IdempotencyKey {
  readonly userId: string;
  readonly operation: string;
  readonly key: string;
}

/** What an earlier attempt with this key created, if it committed within the last day. */
export async function rememberedEntity(tx: Db, k: IdempotencyKey): Promise<string | null> {
  const [row] = await tx
    .select({ entityId: idempotencyKeys.entityId })
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.userId, k.userId),
        eq(idempotencyKeys.operation, k.operation),
        eq(idempotencyKeys.key, k.key),
        gt(idempotencyKeys.createdAt, idempotencyKeyFresh),
      ),
    );
  return row?.entityId ?? null;
}

/**
 * Remembers what this attempt created, in its transaction. An expired key is taken over;
 * returns false when a fresh one exists (a concurrent attempt committed first).
 */
export async function rememberEntity(tx: Db, k: IdempotencyKey, entityId: string): Promise<boolean> {
  const rows = await tx
    .insert(idempotencyKeys)
    .values({ ...k, entityId })
    .onConflictDoUpdate({
      target: [idempotencyKeys.userId, idempotencyKeys.operation, idempotencyKeys.key],
      set: { entityId, createdAt: sql`now()` },
      setWhere: lt(idempotencyKeys.createdAt, idempotencyKeyFresh),
    })
    .returning({ key: idempotencyKeys.key });
  return rows.length > 0;
}

/** Keys older than a day, at most 5,000 per statement (the cleanup job). */
export async function deleteExpiredIdempotencyKeys(db: Db): Promise<number> {
  let total = 0;
  for (;;) {
    // The key is composite: rows are picked by their physical id within one statement.
    const deleted = rowsOf(
      await db.execute(sql`
        delete from ${idempotencyKeys} where ctid in (
          select ctid from ${idempotencyKeys} where ${idempotencyKeys.createdAt} < ${idempotencyKeyFresh} limit 5000)
        returning 1`),
    ).length;
    total += deleted;
    if (deleted < 5_000) return total;
  }
}
