import type { Viewer } from './auth/viewer.js';
import type { Db } from './db/client.js';
import type { Logger } from './logging/logger.js';
import { createCourseLoaders } from './modules/courses/index.js';
import { createEnrollmentLoaders } from './modules/enrollments/index.js';
import { createLessonLoaders, type LessonLive } from './modules/lessons/index.js';
import type { NotificationLive } from './modules/notifications/notification.live.js';
import { createUserLoaders } from './modules/users/index.js';

interface ModuleLoaders {
  users: ReturnType<typeof createUserLoaders>;
  courses: ReturnType<typeof createCourseLoaders>;
  lessons: ReturnType<typeof createLessonLoaders>;
  enrollments: ReturnType<typeof createEnrollmentLoaders>;
}
export type Loaders = Readonly<ModuleLoaders>;

/**
 * Per-request loaders, one factory per module. Created fresh for every HTTP request and
 * every subscription event, so a cached row never outlives the request that read it and
 * visibility (which depends on the viewer) is never shared between viewers. Each module's
 * loaders are made on first use: a subscription event usually touches one or two modules,
 * and thousands of subscribers receive each event.
 */
export function createLoaders(db: Db, viewer: Viewer, shared?: SharedLoaders): Loaders {
  const made: Partial<ModuleLoaders> = {};
  return {
    get users() {
      return (made.users ??= createUserLoaders(db, viewer, shared?.users));
    },
    get courses() {
      return (made.courses ??= createCourseLoaders(db, viewer, shared?.courses));
    },
    get lessons() {
      return (made.lessons ??= createLessonLoaders(db, viewer, shared?.lessons));
    },
    get enrollments() {
      return (made.enrollments ??= createEnrollmentLoaders(db, viewer));
    },
  };
}

const NOBODY: Viewer = { userId: null, role: null, sessionId: null, tokenExpiresAt: null };

/**
 * The loaders that do not depend on who is asking (rows by primary key). One set per
 * subscription event is shared by every subscriber of that event on this instance, so a
 * status change fans out to thousands of sockets with a handful of queries, still fresh.
 */
export function createSharedLoaders(db: Db) {
  return {
    users: createUserLoaders(db, NOBODY).byId,
    courses: createCourseLoaders(db, NOBODY).byId,
    lessons: createLessonLoaders(db, NOBODY).byId,
  };
}
export type SharedLoaders = ReturnType<typeof createSharedLoaders>;

/** What services need about the caller: who they are and the request's loaders. */
export interface RequestScope {
  readonly viewer: Viewer;
  readonly loaders: Loaders;
  /**
   * Users who signed in during this request (register, login, refresh): the AuthPayload's
   * `user` is theirs to read, although the request itself carried no token for them.
   */
  readonly signedIn?: Set<string>;
  /**
   * Cache tags of what this request changed (`Course:<id>`, `Course:list`, ...): invalidated
   * in the response cache before the response is sent. Absent outside HTTP requests.
   */
  readonly changes?: Set<string>;
}

/** Notes that a write changed these entities (see `RequestScope.changes`). */
export function touched(scope: RequestScope, ...tags: string[]): void {
  if (scope.changes) for (const t of tags) scope.changes.add(t);
}

/** Where a request comes from: for throttling and session records. */
export interface ClientInfo {
  readonly ip: string;
  readonly userAgent: string | null;
}

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
