import type { Role } from './role.js';

/**
 * What this instance knows about revoked access: per session (logout, refresh-token reuse,
 * password change) and per user (role change: tokens issued before it are refused). Held in
 * memory so that checking a request costs two Map lookups and no round trip; kept current by
 * pub/sub (auth/revocation-sync.ts) with a periodic read of Postgres as the safety net.
 *
 * A marker is needed only as long as a token issued before it can still be valid, so each
 * expires an access-token lifetime (plus clock skew) after it was set: memory is bounded by
 * the revocations of the last 15 minutes (by default).
 */
export interface RevocationEvent {
  /** Sessions ended: every access token carrying one of these `sid`s is refused. */
  readonly sessionIds?: readonly string[];
  /**
   * A role change: the user's tokens issued before `at` (ms), or with another role, are
   * refused; except, after a promotion, tokens still carrying the lesser `previousRole`.
   */
  readonly roleChange?: {
    readonly userId: string;
    readonly role: Role;
    readonly previousRole: Role | null;
    readonly at: number;
  };
}

/** The claims of a verified access token the check needs. */
export interface TokenClaims {
  readonly userId: string | null;
  readonly role: Role | null;
  readonly sessionId: string | null;
  /** `iat`, in seconds. */
  readonly issuedAt?: number | undefined;
}

interface UserMarker {
  /** Seconds: tokens with an earlier `iat` are refused, and tokens with another role. */
  readonly notBefore: number;
  readonly role: Role;
  /** After a promotion: the lesser role, whose tokens stay valid until they expire. */
  readonly lesser: Role | null;
  readonly expiresAt: number;
}

const RANK: Record<Role, number> = { STUDENT: 0, INSTRUCTOR: 1, ADMIN: 2 };

/** The previous role when the change was a promotion (its tokens confer less): else null. */
function lesserRole(previous: Role | null, next: Role): Role | null {
  return previous !== null && RANK[previous] < RANK[next] ? previous : null;
}

export class Revocations {
  private readonly sessions = new Map<string, number>(); // session id → marker expiry (ms)
  private readonly users = new Map<string, UserMarker>();

  /** `keepMs`: how long a marker matters (the access-token lifetime plus clock skew). */
  constructor(private readonly keepMs: number) {}

  /** True when the token was revoked. The hot path: two Map lookups. */
  isRevoked(claims: TokenClaims): boolean {
    if (claims.sessionId !== null && this.sessions.has(claims.sessionId)) return true;
    if (claims.userId === null) return false;
    const marker = this.users.get(claims.userId);
    if (!marker) return false;
    // A promoted user's old token still works with its lesser role until it expires (as it
    // always did: the new role arrives with the next refresh).
    if (marker.lesser !== null && claims.role === marker.lesser) return false;
    // A token with another role than the latest change set is stale whenever it was issued
    // (a refresh racing the change's transaction read the old role).
    return claims.role !== marker.role || (claims.issuedAt ?? 0) < marker.notBefore;
  }

  apply(event: RevocationEvent, now = Date.now()): void {
    for (const id of event.sessionIds ?? []) this.revokeSession(id, now, now);
    if (event.roleChange)
      this.roleChanged(
        event.roleChange.userId,
        event.roleChange.role,
        event.roleChange.previousRole,
        event.roleChange.at,
        now,
      );
  }

  /** `at`: when the session was revoked (the marker lasts a token lifetime from then). */
  revokeSession(sessionId: string, at: number, now = Date.now()): void {
    const expiresAt = at + this.keepMs;
    if (expiresAt <= now) return;
    this.sessions.set(sessionId, Math.max(expiresAt, this.sessions.get(sessionId) ?? 0));
  }

  roleChanged(userId: string, role: Role, previousRole: Role | null, at: number, now = Date.now()): void {
    const expiresAt = at + this.keepMs;
    if (expiresAt <= now) return;
    const notBefore = Math.floor(at / 1000);
    const current = this.users.get(userId);
    // The latest change wins, whichever way (pub/sub or Postgres) it arrives first.
    if (current && current.notBefore > notBefore) return;
    this.users.set(userId, { notBefore, role, lesser: lesserRole(previousRole, role), expiresAt });
  }

  /** Drops markers no unexpired token can be affected by. */
  prune(now = Date.now()): void {
    for (const [id, expiresAt] of this.sessions) if (expiresAt <= now) this.sessions.delete(id);
    for (const [id, marker] of this.users) if (marker.expiresAt <= now) this.users.delete(id);
  }

  get size(): { sessions: number; users: number } {
    return { sessions: this.sessions.size, users: this.users.size };
  }
}
