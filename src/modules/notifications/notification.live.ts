import { requireSignedIn } from '../../auth/viewer.js';
import type { GraphQLContext } from '../../context.js';
import { createLoaders } from '../../loaders.js';
import type { Db } from '../../db/client.js';
import type { NotificationRow } from '../../db/schema.js';
import type { Logger } from '../../logging/logger.js';
import { acceptedItems, BoundedStream } from '../../pubsub/bounded-stream.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics, type NotificationAddedEvent } from '../../pubsub/topics.js';
import { findNotificationsByIds } from './notification.repository.js';

/**
 * `notificationAdded`: the viewer's own topic only. Each event is re-read at delivery,
 * filtered by recipient, so a socket can never be handed someone else's notification.
 */
export class NotificationLive {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly options: { readonly maxQueued: number; readonly log: Logger },
  ) {}

  async subscribe(ctx: GraphQLContext): Promise<AsyncIterableIterator<NotificationRow>> {
    const viewer = requireSignedIn(ctx.viewer);
    const stream = new BoundedStream<NotificationAddedEvent>(this.options.maxQueued, () =>
      ctx.disconnect?.(1008, 'Slow consumer: too many undelivered events'),
    );
    stream.onEnd(
      await this.bus.subscribe(Topics.userNotifications(viewer.userId), (p) =>
        stream.push(p as NotificationAddedEvent),
      ),
    );
    return acceptedItems(stream, async ({ notificationId }) => {
      const [row] = await findNotificationsByIds(this.db, [notificationId], viewer.userId).catch((err: unknown) => {
        this.options.log.error({ err, notificationId }, 'could not load a notification; not delivered');
        return [];
      });
      if (!row) return null;
      ctx.loaders = createLoaders(this.db, ctx.viewer); // fresh data for nested fields
      return row;
    });
  }
}
