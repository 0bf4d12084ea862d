import type postgres from 'postgres';
import { type CircuitBreaker, DatabaseUnavailableError } from './breaker.js';

/** Statements in flight with no reply for this long make the breaker check the database. */
const STALL_MS = 1_000;

/**
 * The postgres.js client Drizzle is given, behind the breaker: while it is open, statements
 * and transactions are refused before they reach the pool (no wait for a connection that
 * cannot come, nothing queued that would run when the database returns). The client's own
 * outcomes feed the breaker: a connection-class error, or statements in flight with no
 * reply for a while (a frozen server keeps its sockets open), make it probe.
 */
export function guardClient(
  client: postgres.Sql,
  breaker: CircuitBreaker,
  isConnectionError: (err: unknown) => boolean,
): { client: postgres.Sql; stop(): void } {
  let inFlight = 0;
  let lastReply = Date.now();
  const observe = (pending: PromiseLike<unknown>) => {
    inFlight++;
    const done = () => {
      inFlight--;
      lastReply = Date.now();
    };
    // Promise.prototype.then, not the query's own `then` (which would start the query
    // before Drizzle has chosen its result format).
    Promise.prototype.then.call(pending, done, (err: unknown) => {
      done();
      if (isConnectionError(err)) breaker.suspect();
    });
  };
  const watchdog = setInterval(() => {
    if (inFlight > 0 && Date.now() - lastReply > STALL_MS) {
      lastReply = Date.now(); // at most one probe per stall period
      breaker.suspect();
    }
  }, STALL_MS / 4);
  watchdog.unref();

  const guarded = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) => {
          breaker.assertClosed();
          const statement = target.unsafe(query, params, options);
          observe(statement);
          return statement;
        };
      }
      if (property === 'begin') {
        return (...args: unknown[]) => {
          if (breaker.isOpen) return Promise.reject(new DatabaseUnavailableError());
          const transaction = (target.begin as (...a: unknown[]) => Promise<unknown>)(...args);
          observe(transaction);
          return transaction;
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return {
    client: guarded,
    stop: () => {
      clearInterval(watchdog);
      breaker.stop();
    },
  };
}
