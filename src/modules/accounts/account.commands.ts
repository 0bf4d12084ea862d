import type { RevocationEvent } from '../../auth/revocations.js';
import type { LoginThrottle } from '../../auth/login-throttle.js';
import { passwordProblem, PASSWORD_MAX } from '../../auth/password-policy.js';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from '../../auth/passwords.js';
import type { TokenService } from '../../auth/tokens.js';
import { requireRole, requireSignedIn } from '../../auth/viewer.js';
import { touched, type ClientInfo, type RequestScope } from '../../request-scope.js';
import { isUniqueViolation, type Db } from '../../db/client.js';
import { transaction, type GuardedScope } from '../../db/operation-guard.js';
import type { Role, UserRow } from '../../db/schema.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parseInput } from '../../graphql/validation.js';
import type { Logger } from '../../logging/logger.js';
import type { Emits } from '../../util/after-commit.js';
import { retireAccountTokens } from './account-token.repository.js';
import {
  findUser,
  findUserByEmail,
  findUserWithPassword,
  insertUser,
  lockAdmins,
  updateUser,
} from '../users/user.repository.js';
import {
  profileSchema,
  registerSchema,
  type ChangePasswordInput,
  type LoginInput,
  type LogoutInput,
  type RefreshSessionInput,
  type RegisterInput,
  type SetUserRoleInput,
  type UpdateProfileInput,
} from './account.inputs.js';
import {
  addToken,
  createSession,
  findTokenForUpdate,
  markRotated,
  revokeOtherSessions,
  revokeSession,
} from './session.repository.js';

export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  user: UserRow;
}

/** What account writes announce after they commit (see util/after-commit.ts). */
export interface AccountCommitEvents {
  /**
   * A user's sessions ended or their role changed: live sockets are closed, and `revoked`
   * reaches every instance's revocation markers (access tokens of those sessions, or issued
   * before the role change, are refused on HTTP). Awaited: done before the mutation answers.
   * With `sessionIds`, only those sessions' sockets close (one revoked session); without,
   * all of the user's.
   */
  sessionChanged: {
    userId: string;
    reason: 'LOGOUT' | 'ROLE_CHANGED' | 'PASSWORD_CHANGED' | 'SESSION_REVOKED' | 'PASSWORD_RESET';
    revoked: RevocationEvent;
    sessionIds?: readonly string[];
  };
}

export interface AccountCommandsDeps {
  readonly db: Db;
  readonly tokens: TokenService;
  readonly throttle: LoginThrottle;
  readonly refreshTokenTtlDays: number;
  readonly log: Logger;
  readonly afterCommit: Emits<AccountCommitEvents>;
}

const INVALID_CREDENTIALS = 'Invalid email or password';

/**
 * Writes of the account lifecycle: registering, signing in and out, rotating refresh tokens,
 * profile, password and role changes. They write `users` rows (through user.repository.ts)
 * as well as sessions: a user's credentials and role are what accounts are about, so user
 * writes live here, and the users module stays reads only (the bottom of the module order).
 */
export class AccountCommands {
  /** One throttle reservation per request covers all of its (aliased) login fields. */
  private readonly loginReservations = new WeakMap<object, Promise<void>>();

  constructor(private readonly deps: AccountCommandsDeps) {}

  async register(scope: GuardedScope, input: RegisterInput, client: ClientInfo): Promise<AuthResult> {
    const v = parseInput(registerSchema, input);
    const problem = await passwordProblem(v.password, v.email);
    if (problem) throw AppError.badInput({ password: problem });
    await this.deps.throttle.reserveRegistration(client.ip);
    const passwordHash = await hashPassword(v.password);
    try {
      // The account and its first session together: a failure leaves no account behind
      // that a retry would then call a CONFLICT.
      const started = await transaction(this.deps.db, scope, async (tx) => {
        const user = await insertUser(tx, {
          email: v.email,
          displayName: v.displayName,
          role: 'STUDENT',
          passwordHash,
        });
        // The WELCOME notification (in the app and by email), once: the outbox row commits with
        // the account or not at all, and the worker sends it.
        await appendToOutbox(tx, {
          type: 'user.registered',
          userId: user.id,
          occurredAt: user.createdAt.toISOString(),
        });
        return { user, ...(await createSession(tx, user.id, this.deps.refreshTokenTtlDays, client.userAgent)) };
      });
      return await this.issue(started.user, started.session.id, started.refreshToken);
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_lower_key')) {
        throw AppError.conflict('An account with this email already exists', { field: 'email' });
      }
      throw err;
    }
  }

  /**
   * `requestLogins` lists the emails of every login field of the request; the first login
   * to run reserves throttle attempts for all of them.
   */
  async login(
    scope: GuardedScope,
    input: LoginInput,
    client: ClientInfo,
    requestLogins: () => string[],
  ): Promise<AuthResult> {
    const emailAddress = normalizeEmail(input.email);
    let reservation = this.loginReservations.get(scope);
    if (!reservation) {
      reservation = this.deps.throttle.reserve(requestLogins().map(normalizeEmail), client.ip);
      this.loginReservations.set(scope, reservation);
    }
    await reservation;

    const tooLong = input.password.length > PASSWORD_MAX || emailAddress.length > 254;
    const user = tooLong ? undefined : await findUserByEmail(this.deps.db, emailAddress);
    const ok = user
      ? await verifyPassword(user.passwordHash, input.password)
      : await verifyAgainstDummy(input.password);
    if (!user || !ok) throw AppError.unauthenticated(INVALID_CREDENTIALS);

    await this.deps.throttle.succeeded(emailAddress, client.ip);
    // The rehash and the new session commit together, or neither does.
    const passwordHash = needsRehash(user.passwordHash) ? await hashPassword(input.password) : null;
    const { session, refreshToken } = await transaction(this.deps.db, scope, async (tx) => {
      if (passwordHash) await updateUser(tx, user.id, { passwordHash });
      return createSession(tx, user.id, this.deps.refreshTokenTtlDays, client.userAgent);
    });
    return this.issue(user, session.id, refreshToken);
  }

  /** Rotates the refresh token. Reusing a rotated token revokes its whole session. */
  async refresh(scope: GuardedScope, input: RefreshSessionInput): Promise<AuthResult> {
    const outcome = await transaction(this.deps.db, scope, async (tx) => {
      const found = await findTokenForUpdate(tx, input.refreshToken);
      if (!found) return { kind: 'invalid' as const };
      const { token, session } = found;
      if (session.revokedAt) return { kind: 'revoked' as const };
      if (session.expiresAt.getTime() <= Date.now()) return { kind: 'expired' as const };
      if (token.rotatedAt || !(await markRotated(tx, token.id))) {
        await revokeSession(tx, session.id, 'REFRESH_TOKEN_REUSE');
        return { kind: 'reused' as const, userId: session.userId, sessionId: session.id };
      }
      const user = await findUser(tx, session.userId);
      return {
        kind: 'rotated' as const,
        user: user!,
        sessionId: session.id,
        refreshToken: await addToken(tx, session.id),
      };
    });
    switch (outcome.kind) {
      case 'invalid':
        throw AppError.unauthenticated('Invalid refresh token');
      case 'revoked':
        throw AppError.unauthenticated('Session has ended; sign in again');
      case 'expired':
        throw AppError.unauthenticated('Session expired; sign in again');
      case 'reused':
        this.deps.log.warn(
          { userId: outcome.userId, sessionId: outcome.sessionId },
          'refresh token reuse: session revoked',
        );
        await this.deps.afterCommit.emit('sessionChanged', {
          userId: outcome.userId,
          reason: 'LOGOUT',
          revoked: { sessionIds: [outcome.sessionId] },
        });
        throw AppError.unauthenticated('Refresh token was already used; the session has been revoked');
      case 'rotated':
        // The role is read fresh here: a role change takes effect at the next refresh.
        return this.issue(outcome.user, outcome.sessionId, outcome.refreshToken);
    }
  }

  /** Ends the session the refresh token belongs to. Unknown tokens are not an error. */
  async logout(scope: GuardedScope, input: LogoutInput): Promise<boolean> {
    const ended = await transaction(this.deps.db, scope, async (tx) => {
      const found = await findTokenForUpdate(tx, input.refreshToken);
      if (!found) return null;
      await revokeSession(tx, found.session.id, 'LOGOUT');
      return found.session;
    });
    if (ended)
      await this.deps.afterCommit.emit('sessionChanged', {
        userId: ended.userId,
        reason: 'LOGOUT',
        revoked: { sessionIds: [ended.id] },
      });
    return true;
  }

  async updateProfile(scope: RequestScope, input: UpdateProfileInput): Promise<UserRow> {
    const viewer = requireSignedIn(scope.viewer);
    const v = parseInput(profileSchema, input);
    const changes = v.displayName === undefined ? { updatedAt: new Date() } : { displayName: v.displayName };
    const user = await transaction(this.deps.db, scope, (tx) => updateUser(tx, viewer.userId, changes));
    if (!user) throw AppError.unauthenticated();
    touched(scope, `User:${viewer.userId}`);
    return user;
  }

  /** Changes the password and signs out every other session of the user. */
  async changePassword(scope: RequestScope, input: ChangePasswordInput, client: ClientInfo): Promise<boolean> {
    const viewer = requireSignedIn(scope.viewer);
    const user = await findUserWithPassword(this.deps.db, viewer.userId);
    if (!user) throw AppError.unauthenticated();
    const problem = await passwordProblem(input.newPassword, user.email);
    if (problem) throw AppError.badInput({ newPassword: problem });
    if (input.newPassword === input.currentPassword) {
      throw AppError.badInput({ newPassword: 'must differ from the current password' });
    }
    // Guessing the current password is throttled like signing in.
    await this.deps.throttle.reserve([user.email], client.ip);
    if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
      throw AppError.badInput({ currentPassword: 'is incorrect' });
    }
    await this.deps.throttle.succeeded(user.email, client.ip);
    const passwordHash = await hashPassword(input.newPassword);
    const revoked = await transaction(this.deps.db, scope, async (tx) => {
      await updateUser(tx, user.id, { passwordHash });
      // A reset link still in a mailbox would undo the change (a takeover path for whoever
      // reads that mailbox); verification links go with it, as after a reset.
      await retireAccountTokens(tx, user.id, 'PASSWORD_RESET');
      await retireAccountTokens(tx, user.id, 'EMAIL_VERIFICATION');
      return revokeOtherSessions(tx, user.id, viewer.sessionId, 'PASSWORD_CHANGED');
    });
    await this.deps.afterCommit.emit('sessionChanged', {
      userId: user.id,
      reason: 'PASSWORD_CHANGED',
      revoked: { sessionIds: revoked },
    });
    return true;
  }

  /**
   * Admins only. The last admin cannot be demoted: every admin row is locked first, so two
   * admins demoting each other at once cannot both succeed. After a demotion, access tokens
   * issued before it are refused (within 2 s on every instance); after a promotion, the old
   * tokens keep their lesser role until they expire. Live sockets are closed at once; the
   * user's next refresh carries the new role.
   */
  async setUserRole(scope: RequestScope, input: SetUserRoleInput): Promise<UserRow> {
    requireRole(scope.viewer, 'ADMIN');
    const userId = uuidOf('User', input.userId);
    if (!userId) throw AppError.notFound('User');
    const updated = await transaction(this.deps.db, scope, async (tx) => {
      const admins = await lockAdmins(tx);
      const target = await findUser(tx, userId, true);
      if (!target) throw AppError.notFound('User');
      if (target.role === input.role) return { user: target, changed: false };
      if (target.role === 'ADMIN' && admins.length <= 1) {
        throw AppError.conflict('Cannot demote the last admin', { from: target.role, to: input.role });
      }
      // role_changed_at: access tokens issued before it are refused (auth/revocations.ts). The
      // API's clock, like the tokens' `iat`, not the database's.
      const user = await updateUser(tx, userId, {
        role: input.role as Role,
        previousRole: target.role,
        roleChangedAt: new Date(),
      });
      return { user: user!, changed: true };
    });
    if (updated.changed) {
      const { role, previousRole, roleChangedAt } = updated.user;
      const roleChange = { userId, role, previousRole, at: roleChangedAt!.getTime() };
      await this.deps.afterCommit.emit('sessionChanged', { userId, reason: 'ROLE_CHANGED', revoked: { roleChange } });
    }
    return updated.user;
  }

  private async issue(user: UserRow, sessionId: string, refreshToken: string): Promise<AuthResult> {
    const access = await this.deps.tokens.signAccessToken({ userId: user.id, role: user.role, sessionId });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, user };
  }
}

function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}
