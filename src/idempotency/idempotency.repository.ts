import { createHash } from 'node:crypto';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../db/client.js';
import { AppError } from '../errors/app-error.js';
import { stableJson } from '../util/stable-json.js';
import { idempotencyKeyFresh, idempotencyKeys } from './idempotency.table.js';

export interface IdempotencyKey {
  readonly userId: string;
  readonly operation: string;
  readonly key: string;
  /** `inputFingerprint` of this attempt's input. */
  readonly fingerprint: string;
}

/** What an earlier attempt committed with a key: the entity and its input's fingerprint. */
export interface RememberedEntity {
  readonly entityId: string;
  readonly fingerprint: string | null;
}

/** sha256 of a validated input (keys sorted; the client mutation id itself left out by the caller). */
export function inputFingerprint(input: Record<string, unknown>): string {
  return createHash('sha256').update(stableJson(input)).digest('base64url');
}

/**
 * Refuses a replay whose input differs from the first attempt's: CONFLICT, never the earlier
 * entity (which may belong elsewhere: another course, one the caller may no longer write to).
 * `legacy` decides keys written before fingerprints were recorded.
 */
export function assertSameInput(k: IdempotencyKey, earlier: RememberedEntity, legacy: () => boolean): void {
  const same = earlier.fingerprint === null ? legacy() : earlier.fingerprint === k.fingerprint;
  if (!same)
    throw AppError.conflict('clientMutationId was already used with a different input; use a new one', {
      clientMutationId: k.key,
    });
}

/** What an earlier attempt with this key created, if it committed within the last day. */
export async function rememberedEntity(tx: Db, k: IdempotencyKey): Promise<RememberedEntity | null> {
  const [row] = await tx
    .select({ entityId: idempotencyKeys.entityId, fingerprint: idempotencyKeys.fingerprint })
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.userId, k.userId),
        eq(idempotencyKeys.operation, k.operation),
        eq(idempotencyKeys.key, k.key),
        gt(idempotencyKeys.createdAt, idempotencyKeyFresh),
      ),
    );
  return row ?? null;
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
      set: { entityId, fingerprint: k.fingerprint, createdAt: sql`now()` },
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

/**
 * A create under its `clientMutationId`, in the caller's transaction (which must serialize
 * attempts with one key, e.g. under the parent's row lock): with no key, `create`; with a key
 * an earlier attempt committed, that attempt's entity (`find`), when it still exists and the
 * input is the same (`legacy` as in `assertSameInput`); else `create`, the key remembered with it.
 */
export async function createOnce<T extends { id: string }>(
  tx: Db,
  key: IdempotencyKey | null,
  entity: string,
  steps: {
    find: (id: string) => Promise<T | undefined>;
    legacy: (row: T | undefined) => boolean;
    create: () => Promise<T>;
  },
): Promise<{ row: T; replayed: boolean }> {
  const earlier = key ? await rememberedEntity(tx, key) : null;
  if (key && earlier) {
    const row = await steps.find(earlier.entityId);
    assertSameInput(key, earlier, () => steps.legacy(row));
    if (!row)
      throw AppError.conflict(`clientMutationId was used for a ${entity} that has since been deleted`, {
        clientMutationId: key.key,
      });
    return { row, replayed: true };
  }
  const row = await steps.create();
  if (key && !(await rememberEntity(tx, key, row.id)))
    throw AppError.conflict('clientMutationId is already in use', { clientMutationId: key.key });
  return { row, replayed: false };
}
