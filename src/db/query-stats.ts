import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Counts SQL statements per request. The Drizzle logger calls `recordQuery`; the request
 * logging plugin reads the count so every request log line says how many statements it cost
 * (an N+1 regression shows up in the logs before it shows up in latency).
 */
interface QueryScope {
  count: number;
}

const storage = new AsyncLocalStorage<QueryScope>();

export function withQueryScope<T>(fn: () => T): T {
  return storage.run({ count: 0 }, fn);
}

export function recordQuery(): void {
  const scope = storage.getStore();
  if (scope) scope.count += 1;
}

export function queriesInScope(): number | undefined {
  return storage.getStore()?.count;
}
