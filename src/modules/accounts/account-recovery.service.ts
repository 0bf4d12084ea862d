import type { LoginThrottle } from '../../auth/login-throttle.js';
import { passwordProblem } from '../../auth/password-policy.js';
import { hashPassword } from '../../auth/passwords.js';
import type { TokenService } from '../../auth/tokens.js';
import { requireSignedIn } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { transaction, type GuardedScope } from '../../db/operation-guard.js';
import type { UserRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import { touched, type ClientInfo, type RequestScope } from '../../request-scope.js';
import type { Emits } from '../../util/after-commit.js';
import { findUser, findUserByEmail, markEmailVerified, updateUser } from '../users/user.repository.js';
import type { AccountCommitEvents, AuthResult } from './account.commands.js';
import {
  consumeAccountToken,
  countLiveAccountTokens,
  findUsableAccountToken,
  insertAccountToken,
  retireAccountTokens,
} from './account-token.repository.js';
import type { AccountTokenPurpose } from './account-token.table.js';
import { createSession, revokeOtherSessions } from './session.repository.js';

const RESET_TOKEN_TTL_MS = 30 * 60_000;
const VERIFICATION_TOKEN_TTL_MS = 24 * 60 * 60_000;
/**
 * requestPasswordReset answers no sooner than this, whether or not the address has an account:
 * the database work only a real account costs is hidden under it.
 */
const RESET_RESPONSE_FLOOR_MS = 300;
/** Reset links a user may hold at once (each lives 30 minutes): a few mails, never more. */
const MAX_LIVE_RESET_LINKS = 3;

export interface AccountRecoveryDeps {
  readonly db: Db;
  readonly tokens: TokenService;
  readonly throttle: LoginThrottle;
  readonly refreshTokenTtlDays: number;
  /** Announces, after commit, that a reset ended the user's sessions (`sessionChanged`). */
  readonly afterCommit: Emits<Pick<AccountCommitEvents, 'sessionChanged'>>;
}

/**
 * Account recovery and email verification. Requests only write a token row and its outbox event
 * in one transaction; the worker mints the token and sends the email (account-token.mailer.ts),
 * so no email is sent from inside a request and none is lost if a process dies.
 */
export class AccountRecoveryService {
  constructor(private readonly deps: AccountRecoveryDeps) {}

  /**
   * Always true (no account enumeration), in the same time; only a real account gets an email,
   * and only while it holds fewer than MAX_LIVE_RESET_LINKS usable links: a further request
   * sends nothing. So nobody can flood a mailbox, and nobody can keep its owner from recovering
   * (there is always a live link in the mailbox, or the next request sends one). The only limit
   * on asking is per client address (`reserveResetRequest`), against one client mailing many.
   */
  async requestPasswordReset(scope: GuardedScope, email: string, client: Pick<ClientInfo, 'ip'>): Promise<boolean> {
    const started = Date.now();
    const address = email.trim().toLowerCase();
    if (address.length === 0 || address.length > 254 || !address.includes('@'))
      throw AppError.badInput({ email: 'is not an email address' });
    try {
      await this.deps.throttle.reserveResetRequest(client.ip);
      const user = await findUserByEmail(this.deps.db, address);
      if (user) await this.request(scope, user, 'PASSWORD_RESET', RESET_TOKEN_TTL_MS, MAX_LIVE_RESET_LINKS);
      return true;
    } finally {
      const wait = RESET_RESPONSE_FLOOR_MS - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  async requestEmailVerification(scope: RequestScope): Promise<boolean> {
    const viewer = requireSignedIn(scope.viewer);
    const user = await findUser(this.deps.db, viewer.userId);
    if (!user) throw AppError.unauthenticated();
    await this.deps.throttle.reserveAccountEmail('verify', user.email, user.id);
    await this.request(scope, user, 'EMAIL_VERIFICATION', VERIFICATION_TOKEN_TTL_MS);
    return true;
  }

  /**
   * Sets emailVerifiedAt for the address the link was sent to (if it is still the user's).
   * The link proves an inbox, not a sign-in: the user comes back with what the caller may read
   * anyway (anonymous: public fields only), and a caller signed in as someone else is refused
   * (FORBIDDEN, the link left unused) rather than mixing two accounts in one answer.
   */
  async verifyEmail(scope: RequestScope, token: string): Promise<UserRow> {
    const row = await findUsableAccountToken(this.deps.db, 'EMAIL_VERIFICATION', token);
    if (!row) throw invalidToken();
    if (scope.viewer.userId !== null && scope.viewer.userId !== row.userId)
      throw AppError.forbidden('This link verifies another account; sign out or open it signed in as that account');
    const user = await transaction(this.deps.db, scope, async (tx) => {
      if (!(await consumeAccountToken(tx, row.id))) throw invalidToken();
      const updated = await markEmailVerified(tx, row.userId, row.email);
      if (!updated) throw invalidToken(); // the address changed since the link was sent
      return updated;
    });
    touched(scope, `User:${user.id}`, `Viewer:${user.id}`);
    return user;
  }

  /**
   * Sets the new password (the policy applies), ends every session of the user (refresh tokens,
   * access tokens through the revocation markers, sockets) and signs in afresh.
   */
  async resetPassword(
    scope: GuardedScope,
    input: { token: string; newPassword: string },
    client: ClientInfo,
  ): Promise<AuthResult> {
    const row = await findUsableAccountToken(this.deps.db, 'PASSWORD_RESET', input.token);
    if (!row) throw invalidToken();
    const problem = await passwordProblem(input.newPassword, row.email);
    if (problem) throw AppError.badInput({ newPassword: problem });
    const passwordHash = await hashPassword(input.newPassword);
    const done = await transaction(this.deps.db, scope, async (tx) => {
      if (!(await consumeAccountToken(tx, row.id))) throw invalidToken();
      await retireAccountTokens(tx, row.userId, 'PASSWORD_RESET');
      const user = await updateUser(tx, row.userId, { passwordHash });
      if (!user) throw invalidToken();
      const ended = await revokeOtherSessions(tx, user.id, null, 'PASSWORD_RESET');
      const started = await createSession(tx, user.id, this.deps.refreshTokenTtlDays, client.userAgent);
      return { user, ended, ...started };
    });
    await this.deps.afterCommit.emit('sessionChanged', {
      userId: done.user.id,
      reason: 'PASSWORD_RESET',
      revoked: { sessionIds: done.ended },
    });
    const access = await this.deps.tokens.signAccessToken({
      userId: done.user.id,
      role: done.user.role,
      sessionId: done.session.id,
    });
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: done.refreshToken,
      user: done.user,
    };
  }

  /**
   * The token row and its outbox event, in one transaction: the worker does the rest. With
   * `maxLive`, nothing while the user already holds that many usable links of the purpose.
   */
  private async request(
    scope: GuardedScope,
    user: UserRow,
    purpose: AccountTokenPurpose,
    ttlMs: number,
    maxLive?: number,
  ): Promise<void> {
    await transaction(this.deps.db, scope, async (tx) => {
      if (maxLive !== undefined && (await countLiveAccountTokens(tx, user.id, purpose)) >= maxLive) return;
      const row = await insertAccountToken(tx, { userId: user.id, purpose, email: user.email, ttlMs });
      await appendToOutbox(tx, {
        type: 'account.token-requested',
        tokenId: row.id,
        userId: user.id,
        purpose,
        occurredAt: row.createdAt.toISOString(),
      });
    });
  }
}

function invalidToken(): AppError {
  return AppError.badInput({ token: 'is invalid, expired or already used' });
}
