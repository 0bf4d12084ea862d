import { requireSignedIn } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import type { AuthSessionRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { touched, type RequestScope } from '../../request-scope.js';
import type { Emits } from '../../util/after-commit.js';
import type { AccountCommitEvents } from './account.commands.js';
import { activeSessionsOf, revokeSessionOf } from './session.repository.js';

/** The viewer's signed-in sessions: listing them and ending one. */
export class SessionService {
  constructor(
    private readonly db: Db,
    /** Announces, after commit, that a session ended (`sessionChanged`, only its sockets close). */
    private readonly afterCommit: Emits<Pick<AccountCommitEvents, 'sessionChanged'>>,
  ) {}

  /** `User.sessions` (field-guarded: the user themself). */
  listOf(userId: string): Promise<AuthSessionRow[]> {
    return activeSessionsOf(this.db, userId);
  }

  /**
   * Ends one of the viewer's own sessions: its refresh token stops working (the session row is
   * revoked), its access tokens are refused (the revocation markers), its sockets close. Another
   * user's session, an unknown or an ended one is NOT_FOUND and changes nothing.
   */
  async revoke(scope: RequestScope, id: string): Promise<boolean> {
    const viewer = requireSignedIn(scope.viewer);
    const sessionId = uuidOf('Session', id);
    if (
      !sessionId ||
      !(await transaction(this.db, scope, (tx) => revokeSessionOf(tx, viewer.userId, sessionId, 'REVOKED_BY_USER')))
    )
      throw AppError.notFound('Session');
    await this.afterCommit.emit('sessionChanged', {
      userId: viewer.userId,
      reason: 'SESSION_REVOKED',
      revoked: { sessionIds: [sessionId] },
      sessionIds: [sessionId],
    });
    touched(scope, `Viewer:${viewer.userId}`, `User:${viewer.userId}`);
    return true;
  }
}
