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
          const work = args.pop() as (sql: postgres.TransactionSql) => Promise<unknown>;
          const transaction = (target.begin as (...a: unknown[]) => Promise<unknown>)(
            ...args,
            (sql: postgres.TransactionSql) =>
              withinLiveConnection(sql, work, (err) => isConnectionError(err) || breaker.isOpen),
          );
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

/**
 * Runs a transaction's work, but never lets postgres.js write its ROLLBACK (or COMMIT) on a
 * connection that has died under it: postgres.js 3.4.9 then dereferences the closed socket in
 * a setImmediate and the process crashes with an uncatchable TypeError (porsager/postgres
 * #1154, #1208; fixes pending upstream). Once a statement of the transaction failed with a
 * connection error, its work is left unsettled instead: postgres.js has already rejected the
 * transaction itself (its begin() races the connection's close), so the caller sees the error
 * at once, and nothing refers to the abandoned frame afterwards. The same while the breaker is
 * open (the server is gone or frozen; a frozen one ends the idle transaction itself later).
 */
function withinLiveConnection(
  sql: postgres.TransactionSql,
  work: (sql: postgres.TransactionSql) => Promise<unknown>,
  connectionGone: (err: unknown) => boolean,
): Promise<unknown> {
  let dead = false;
  const guarded = new Proxy(sql, {
    get(target, property, receiver) {
      if (property !== 'unsafe') return Reflect.get(target, property, receiver) as unknown;
      return (query: string, params?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) => {
        if (dead) throw new DatabaseUnavailableError();
        const statement = target.unsafe(query, params, options);
        Promise.prototype.then.call(statement, undefined, (err: unknown) => {
          if (connectionGone(err)) dead = true;
        });
        return statement;
      };
    },
  });
  return work(guarded).catch((err: unknown) => {
    if (dead || connectionGone(err)) return new Promise<never>(() => {});
    throw err;
  });
}
