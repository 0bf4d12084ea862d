import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, gt, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { anyUuidAt, prepared } from '../../db/prepared.js';
import type { Db } from '../../db/client.js';
import { deleteInBatches } from '../../db/delete-in-batches.js';
import {
  authSessions,
  refreshTokens,
  users,
  type AuthSessionRow,
  type RefreshTokenRow,
  type Role,
} from '../../db/schema.js';

/** 256 random bits, prefixed so secret scanners can recognise a leaked EduFlow token. */
function newRefreshToken(): string {
  return `efrt_${randomBytes(32).toString('base64url')}`;
}

function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export async function createSession(
  db: Db,
  userId: string,
  ttlDays: number,
  userAgent: string | null,
): Promise<{ session: AuthSessionRow; refreshToken: string }> {
  const refreshToken = newRefreshToken();
  const [session] = await db
    .insert(authSessions)
    .values({
      userId,
      expiresAt: new Date(Date.now() + ttlDays * 86_400_000),
      userAgent: userAgent?.slice(0, 300) ?? null,
    })
    .returning();
  await db.insert(refreshTokens).values({ sessionId: session!.id, tokenHash: hashRefreshToken(refreshToken) });
  return { session: session!, refreshToken };
}

/** The token row and its session, locked so concurrent refreshes of one token serialise. */
export async function findTokenForUpdate(
  db: Db,
  token: string,
): Promise<{ token: RefreshTokenRow; session: AuthSessionRow } | undefined> {
  const [row] = await db
    .select({ token: refreshTokens, session: authSessions })
    .from(refreshTokens)
    .innerJoin(authSessions, eq(authSessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, hashRefreshToken(token)))
    .for('update')
    .limit(1);
  return row;
}

/** Marks a token used; false when someone else already did (a concurrent reuse). */
export async function markRotated(db: Db, tokenId: string): Promise<boolean> {
  const rows = await db
    .update(refreshTokens)
    .set({ rotatedAt: new Date() })
    .where(and(eq(refreshTokens.id, tokenId), isNull(refreshTokens.rotatedAt)))
    .returning({ id: refreshTokens.id });
  return rows.length === 1;
}

export async function addToken(db: Db, sessionId: string): Promise<string> {
  const refreshToken = newRefreshToken();
  await db.insert(refreshTokens).values({ sessionId, tokenHash: hashRefreshToken(refreshToken) });
  await db.update(authSessions).set({ lastUsedAt: new Date() }).where(eq(authSessions.id, sessionId));
  return refreshToken;
}

/**
 * The sessions of these ids that still speak for their user, in one statement (sockets connecting at once): the ones
 * still active, with their user and that user's role now. The caller compares both.
 */
export function activeSessions(
  db: Db,
  sessionIds: readonly string[],
): Promise<Array<{ id: string; userId: string; role: Role }>> {
  // Every connecting socket's check (batched): built once, run with the ids as one array.
  return prepared(db, 'active-sessions', () =>
    db
      .select({ id: authSessions.id, userId: authSessions.userId, role: users.role })
      .from(authSessions)
      .innerJoin(users, eq(users.id, authSessions.userId))
      .where(
        and(anyUuidAt(authSessions.id, 'ids'), isNull(authSessions.revokedAt), sql`${authSessions.expiresAt} > now()`),
      )
      .prepare('active_sessions'),
  ).execute({ ids: [...sessionIds] });
}

export type RevokeReason = 'LOGOUT' | 'REFRESH_TOKEN_REUSE' | 'PASSWORD_CHANGED' | 'REVOKED_BY_USER' | 'PASSWORD_RESET';

export async function revokeSession(db: Db, sessionId: string, reason: RevokeReason): Promise<void> {
  await db
    .update(authSessions)
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where(and(eq(authSessions.id, sessionId), isNull(authSessions.revokedAt)));
}

/** Revokes every live session of a user except `keep` (the caller's own). */
export async function revokeOtherSessions(
  db: Db,
  userId: string,
  keep: string | null,
  reason: RevokeReason,
): Promise<string[]> {
  const rows = await db
    .update(authSessions)
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where(
      and(
        eq(authSessions.userId, userId),
        isNull(authSessions.revokedAt),
        keep ? ne(authSessions.id, keep) : undefined,
      ),
    )
    .returning({ id: authSessions.id });
  return rows.map((r) => r.id);
}

/**
 * Deletes sessions (and, by cascade, their tokens) that expired, or were revoked more than
 * `keepRevokedDays` ago. Revoked sessions are kept a while so reuse of their tokens is
 * still recognised (and logged) as reuse rather than as an unknown token.
 */
export function purgeSessions(db: Db, keepRevokedDays = 7): Promise<number> {
  // Refresh tokens go with their session (ON DELETE CASCADE).
  return deleteInBatches(
    db,
    authSessions,
    authSessions.id,
    or(
      lt(authSessions.expiresAt, sql`now()`),
      lt(authSessions.revokedAt, sql`now() - make_interval(days => ${keepRevokedDays})`),
    )!,
  );
}

/**
 * Revocations that can still matter (within `windowSeconds`, an access-token lifetime): the
 * sessions revoked and the role changes since then. Both read by index, once a second per
 * instance (auth/revocation-sync.ts).
 */
export async function recentRevocations(
  db: Db,
  windowSeconds: number,
): Promise<{
  sessions: Array<{ id: string; revokedAt: Date }>;
  roleChanges: Array<{ userId: string; role: Role; previousRole: Role | null; at: Date }>;
}> {
  const since = sql`now() - make_interval(secs => ${windowSeconds})`;
  const [sessions, roleChanges] = await Promise.all([
    db
      .select({ id: authSessions.id, revokedAt: authSessions.revokedAt })
      .from(authSessions)
      .where(gt(authSessions.revokedAt, since)),
    db
      .select({ userId: users.id, role: users.role, previousRole: users.previousRole, at: users.roleChangedAt })
      .from(users)
      .where(gt(users.roleChangedAt, since)),
  ]);
  return {
    sessions: sessions.map((s) => ({ id: s.id, revokedAt: s.revokedAt! })),
    roleChanges: roleChanges.map((r) => ({ userId: r.userId, role: r.role, previousRole: r.previousRole, at: r.at! })),
  };
}

/** Most sessions `me.sessions` lists (a user signed in on more devices sees the newest). */
const MAX_LISTED_SESSIONS = 100;

/** A user's live sessions (not revoked, not expired), newest first. */
export function activeSessionsOf(db: Db, userId: string): Promise<AuthSessionRow[]> {
  return db
    .select()
    .from(authSessions)
    .where(and(eq(authSessions.userId, userId), isNull(authSessions.revokedAt), sql`${authSessions.expiresAt} > now()`))
    .orderBy(desc(authSessions.createdAt), desc(authSessions.id))
    .limit(MAX_LISTED_SESSIONS);
}

/** Revokes one live session of `userId`; false when it is not theirs, unknown or already ended. */
export async function revokeSessionOf(
  db: Db,
  userId: string,
  sessionId: string,
  reason: RevokeReason,
): Promise<boolean> {
  const rows = await db
    .update(authSessions)
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where(and(eq(authSessions.id, sessionId), eq(authSessions.userId, userId), isNull(authSessions.revokedAt)))
    .returning({ id: authSessions.id });
  return rows.length === 1;
}
