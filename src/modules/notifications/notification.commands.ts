import { requireSignedIn } from '../../auth/viewer.js';
import type { RequestScope } from '../../request-scope.js';
import type { Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { markRead } from './notification.repository.js';

const MAX_MARK_READ = 500;

/** Acknowledging notifications: only their recipient, and only their own. */
export class NotificationCommands {
  constructor(private readonly db: Db) {}

  /** Marks the viewer's own notifications read. Others' IDs count as not found (never revealed). */
  async markRead(scope: RequestScope, ids: string[]): Promise<number> {
    const viewer = requireSignedIn(scope.viewer);
    if (ids.length > MAX_MARK_READ) throw AppError.badInput({ ids: `must list at most ${MAX_MARK_READ} IDs` });
    const uuids = ids.map((id, i) => {
      const uuid = uuidOf('Notification', id);
      if (!uuid) throw AppError.badInput({ [`ids[${i}]`]: 'is not a Notification ID' });
      return uuid;
    });
    return transaction(this.db, scope, (tx) => markRead(tx, viewer.userId, [...new Set(uuids)]));
  }
}
