import { AsyncLocalStorage } from 'node:async_hooks';
import { parseLsn } from './lsn.js';
import type { Replica } from './replica.js';

/**
 * What the database layer knows about the request a statement belongs to: whether its reads
 * may go to a replica, and whose writes they must see. Set up per HTTP request (the GraphQL
 * handlers) and filled in once the operation is known (`noteReadRoute`, http/read-routing-plugin.ts), or around a job's
 * safe reads (`readingAfter`); absent for WebSocket operations, the rest of jobs and start-up
 * work, whose statements all go to the primary.
 */
export interface ReadRoute {
  /** A query: its statements outside transactions may run on a replica. */
  eligible: boolean;
  /** The signed-in caller: their last write's WAL position is looked up, and their writes recorded. */
  userId?: string;
  /**
   * The answer is about to be stored in the shared response cache: its reads stay on the
   * primary, so no entry is ever computed from a replica that has not yet replayed a write
   * whose invalidation already happened (see docs/decisions/ on read replicas).
   */
  fillsCache?: boolean;
  /** The least WAL position a replica must have replayed (a job carries its write's). */
  minLsn?: bigint;
  /** Where this request's reads go: decided at its first read, the primary after a replica failed. */
  target?: Promise<Replica | null>;
}

const storage = new AsyncLocalStorage<ReadRoute>();

/** Runs an HTTP request's handling under a fresh route when reads may be routed (`routing`), else as it is. */
export function routingReads<T>(routing: boolean, fn: () => T): T {
  return routing ? storage.run({ eligible: false }, fn) : fn();
}

export function currentReadRoute(): ReadRoute | undefined {
  return storage.getStore();
}

/**
 * Runs a job's read-only work with its plain selects eligible for a replica that has replayed
 * `lsn` (the position its write left the primary at), else on the primary. Without a position
 * (a job queued before positions were carried, or without replicas) it runs as it is: on the
 * primary. Only for reads whose answers decide no write, claim or stamp (see
 * docs/decisions/read-replicas.md): a replica at or past the write may still miss what came after.
 */
export function readingAfter<T>(lsn: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (lsn === undefined) return fn();
  return storage.run({ eligible: true, minLsn: parseLsn(lsn) }, fn);
}

/** The response cache's miss: this request's reads go to the primary (see `ReadRoute.fillsCache`). */
export function markFillsCache(): void {
  const route = storage.getStore();
  if (route) route.fillsCache = true;
}
