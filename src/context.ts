import type { Viewer } from './auth/viewer.js';
import type { Loaders } from './loaders.js';
import type { Logger } from './logging/logger.js';
import type { LessonLive } from './modules/lessons/index.js';
import type { NotificationLive } from './modules/notifications/index.js';
import type { ClientInfo, RequestScope } from './request-scope.js';

/**
 * The GraphQL context, the same shape over HTTP and WebSocket. For a subscription, `viewer`
 * and `loaders` are replaced before each event is resolved (fresh role, fresh data), which is
 * safe because graphql-js resolves one event of a subscription at a time.
 */
export interface GraphQLContext extends RequestScope {
  viewer: Viewer;
  loaders: Loaders;
  readonly requestId: string;
  readonly log: Logger;
  readonly client: ClientInfo;
  /** WebSocket only: the live services subscriptions are served from. */
  readonly live?: LiveServices;
  /** WebSocket only: closes the connection (slow consumers). */
  readonly disconnect?: (code: number, reason: string) => void;
  /** Response cache: entity tags seen while executing a cacheable query (set on a miss). */
  cacheTags?: Set<string>;
  /** Response cache: what happened to this request (for the log). */
  cacheOutcome?: 'HIT' | 'MISS' | 'BYPASS';
}

export interface LiveServices {
  readonly lessons: LessonLive;
  readonly notifications: NotificationLive;
}

