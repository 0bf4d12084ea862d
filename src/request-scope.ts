// What services need to know about the caller. Modules import it, so it imports nothing
// from them at run time (the loaders' type is erased).
import type { Viewer } from './auth/viewer.js';
import type { OperationGuard } from './db/operation-guard.js';
import type { Loaders } from './loaders.js';

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
  /**
   * HTTP requests and WebSocket queries and mutations: the abort signal of the operation
   * timeout and the database circuit, which the request's transactions honour
   * (db/operation-guard.ts). Absent for jobs and subscription events.
   */
  readonly guard?: OperationGuard;
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
