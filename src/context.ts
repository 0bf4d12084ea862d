import type { Viewer } from './auth/viewer.js';
import type { Db } from './db/client.js';
import type { Logger } from './logging/logger.js';
import { createCourseLoaders } from './modules/courses/index.js';
import { createEnrollmentLoaders } from './modules/enrollments/index.js';
import { createLessonLoaders } from './modules/lessons/index.js';
import { createUserLoaders } from './modules/users/index.js';

/**
 * Per-request loaders, one factory per module. Created fresh for every HTTP request and
 * every subscription event, so a cached row never outlives the request that read it and
 * visibility (which depends on the viewer) is never shared between viewers.
 */
export function createLoaders(db: Db, viewer: Viewer) {
  return {
    users: createUserLoaders(db, viewer),
    courses: createCourseLoaders(db, viewer),
    lessons: createLessonLoaders(db, viewer),
    enrollments: createEnrollmentLoaders(db, viewer),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;

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

/** The GraphQL context, the same shape over HTTP and WebSocket. */
export interface GraphQLContext extends RequestScope {
  readonly requestId: string;
  readonly log: Logger;
  readonly client: ClientInfo;
}

export function createScope(db: Db, viewer: Viewer): RequestScope {
  return { viewer, loaders: createLoaders(db, viewer) };
}
