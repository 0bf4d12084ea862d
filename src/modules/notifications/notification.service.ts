import { requireSignedIn } from '../../auth/viewer.js';
import type { RequestScope } from '../../request-scope.js';
import type { Db } from '../../db/client.js';
import type { NotificationRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parsePage, toConnection, type Connection, type PageArgs } from '../../graphql/pagination.js';
import {
  countNotifications,
  findNotificationsByIds,
  notificationPage,
  notificationSort,
} from './notification.repository.js';

/**
 * Reading notifications (marking them read: notification.commands.ts). Only their recipient ever sees them: the fields
 * are guarded with `@auth(allow: [SELF])` and every query here is also filtered by recipient.
 * (No DataLoader: a request only ever reads the viewer's own list, once.)
 */
export class NotificationService {
  constructor(private readonly db: Db) {}

  async list(
    scope: RequestScope,
    userId: string,
    args: PageArgs,
    unreadOnly: boolean,
  ): Promise<Connection<NotificationRow>> {
    const viewer = requireSignedIn(scope.viewer);
    if (viewer.userId !== userId) throw AppError.forbidden('Only the user themself may read their notifications');
    const page = parsePage(notificationSort, args);
    const rows = await notificationPage(this.db, userId, unreadOnly, page);
    return toConnection(notificationSort, page, rows, () => countNotifications(this.db, userId, unreadOnly));
  }

  async unreadCount(scope: RequestScope, userId: string): Promise<number> {
    const viewer = requireSignedIn(scope.viewer);
    if (viewer.userId !== userId) throw AppError.forbidden('Only the user themself may read their notifications');
    return countNotifications(this.db, userId, true);
  }

  /** `node(id:)`: the viewer's own notification, or null. */
  async findVisible(scope: RequestScope, id: string): Promise<NotificationRow | null> {
    const uuid = uuidOf('Notification', id);
    if (!uuid || !scope.viewer.userId) return null;
    const [row] = await findNotificationsByIds(this.db, [uuid], scope.viewer.userId);
    return row ?? null;
  }
}
