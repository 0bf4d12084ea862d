import type { Viewer } from './auth/viewer.js';
import type { Db } from './db/client.js';
import type { Logger } from './logging/logger.js';
import { createCourseLoaders } from './modules/courses/index.js';
import { createEnrollmentLoaders } from './modules/enrollments/index.js';
import { createLessonLoaders, type LessonLive } from './modules/lessons/index.js';
import { createUserLoaders } from './modules/users/index.js';

/**
 * Per-request loaders, one factory per module. Created fresh for every HTTP request and
 * every subscription event, so a cached row never outlives the request that read it and
 * visibility (which depends on the viewer) is never shared between viewers.
 */
export function createLoaders(db: Db, viewer: Viewer, shared?: SharedLoaders) {
  const loaders = {
    users: createUserLoaders(db, viewer),
    courses: createCourseLoaders(db, viewer),
    lessons: createLessonLoaders(db, viewer),
    enrollments: createEnrollmentLoaders(db, viewer),
  };
  if (shared) {
    loaders.users.byId = shared.users;
    loaders.courses.byId = shared.courses;
    loaders.lessons.byId = shared.lessons;
  }
  return loaders;
}
export type Loaders = ReturnType<typeof createLoaders>;

/**
 * The loaders that do not depend on who is asking (rows by primary key). One set per
 * subscription event is shared by every subscriber of that event on this instance, so a
 * status change fans out to thousands of sockets with a handful of queries, still fresh.
 */
export function createSharedLoaders(db: Db) {
  const { users, courses, lessons } = createLoaders(db, { userId: null, role: null, sessionId: null, tokenExpiresAt: null });
  return { users: users.byId, courses: courses.byId, lessons: lessons.byId };
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
}

export interface LiveServices {
  readonly lessons: LessonLive;
}

export function createScope(db: Db, viewer: Viewer): RequestScope {
  return { viewer, loaders: createLoaders(db, viewer) };
}
