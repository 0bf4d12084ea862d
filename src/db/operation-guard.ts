import type { Db, Tx } from './client.js';

/** Why an operation was given up; the answer's `extensions.reason`. */
export type AbortReason = 'TIMEOUT' | 'DATABASE_UNAVAILABLE';

/** Thrown into an operation's database work once its answer has been given up. */
class OperationAbortedError extends Error {
  /** Read by `databaseOutage`: a cancelled statement's SQLSTATE, or the open circuit's code. */
  readonly code: string;
  constructor(readonly reason: AbortReason) {
    super(`The operation was given up (${reason}); its transaction was not committed`);
    this.name = 'OperationAbortedError';
    this.code = reason === 'TIMEOUT' ? '57014' : 'CIRCUIT_OPEN';
  }
}

/**
 * Where one transaction of an operation stands: `waiting` for a connection (nothing sent),
 * `running` (BEGIN sent, statements under way; no COMMIT will be sent once aborted),
 * `committing` (COMMIT sent, its reply not yet received: the one stage whose outcome a
 * timeout cannot know), `ended` (committed or rolled back, its answer received).
 */
type TransactionStage = 'waiting' | 'running' | 'committing' | 'ended';

interface TransactionRecord {
  stage: TransactionStage;
  committed?: boolean;
  /** Its COMMIT was sent and then the connection failed: it may or may not have committed. */
  uncertain?: boolean;
  /** The statement in flight, cancelled when the operation is aborted. */
  statement?: { cancel(): unknown };
  ended: Promise<unknown>;
}

/**
 * One operation's abort signal and its transactions. The HTTP layer aborts it at the
 * operation timeout (or when the database circuit opens) and then asks `outcome()` which
 * answer it may give: the data layer has made sure that a transaction not yet committing
 * never commits.
 */
export class OperationGuard {
  private readonly controller = new AbortController();
  private readonly transactions = new Set<TransactionRecord>();
  private abortReason: AbortReason | undefined;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  /** Gives the operation up: statements in flight are cancelled, no transaction begins or commits. */
  abort(reason: AbortReason): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller.abort(new OperationAbortedError(reason));
    // A cancel request needs a server to take it: pointless (and a connection attempt more)
    // when the circuit opened because there is none.
    if (reason === 'TIMEOUT')
      for (const t of this.transactions) if (t.stage === 'running') void Promise.resolve(t.statement?.cancel());
  }

  /**
   * Whether the operation may be given up as `not-committed`: `committed` when one of its
   * transactions committed (its answer is worth waiting for), `unknown` when a COMMIT was
   * sent and its reply has not come.
   */
  outcome(): 'committed' | 'unknown' | 'not-committed' {
    let outcome: 'committed' | 'unknown' | 'not-committed' = 'not-committed';
    for (const t of this.transactions) {
      if (t.committed) return 'committed';
      if (t.stage === 'committing' || t.uncertain) outcome = 'unknown';
    }
    return outcome;
  }

  /** Waits (at most `ms`) for the operation's transactions to end: rolled back, or their COMMIT answered. */
  async settle(ms: number): Promise<void> {
    const open = [...this.transactions].filter((t) => t.stage === 'running' || t.stage === 'committing');
    if (!open.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(open.map((t) => t.ended)),
      new Promise((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  }

  /**
   * Runs `work` in a transaction that honours this guard: not begun once aborted, its
   * statements refused and the one in flight cancelled on abort (then rolled back), and
   * COMMIT sent only if the guard is still live at that moment.
   */
  transaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.abortReason) return Promise.reject(new OperationAbortedError(this.abortReason));
    const record: TransactionRecord = { stage: 'waiting', ended: Promise.resolve() };
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(this.signal.reason);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    const run = db.transaction(async (tx) => {
      // A connection that came after the answer was given up: nothing is sent but the ROLLBACK.
      if (this.abortReason) throw new OperationAbortedError(this.abortReason);
      record.stage = 'running';
      guardStatements(tx, record, () => this.abortReason);
      const result = await Promise.race([work(tx as Tx), aborted]);
      if (this.abortReason) throw new OperationAbortedError(this.abortReason);
      // Nothing between here and postgres.js writing COMMIT can run a timer: an abort from
      // now on finds this stage and answers OUTCOME_UNKNOWN.
      record.stage = 'committing';
      return result;
    });
    record.ended = run.then(
      () => {
        record.stage = 'ended';
        record.committed = true;
      },
      () => {
        if (record.stage === 'committing') record.uncertain = true;
        record.stage = 'ended';
      },
    );
    void record.ended.then(() => this.signal.removeEventListener('abort', onAbort!));
    this.transactions.add(record);
    // Aborted while waiting for a connection: answer at once, the transaction will not begin.
    // Aborted later: wait for its own end (the ROLLBACK, or the COMMIT's reply).
    return Promise.race([
      run,
      aborted.catch((err: unknown) => {
        if (record.stage === 'waiting') throw err;
        return run;
      }),
    ]);
  }
}

/** The postgres.js handle of a Drizzle transaction (`tx.session.client`): see `guardStatements`. */
interface TxClient {
  unsafe(query: string, params?: unknown[], options?: unknown): { cancel(): unknown };
}

/**
 * Drizzle runs a transaction's statements through `session.client.unsafe` (postgres.js'
 * connection-bound handle). Replacing that handle on the transaction's own session lets the
 * guard refuse statements once aborted (a resolver that keeps going after the answer cannot
 * write on a connection back in the pool) and cancel the one in flight. PGlite transactions
 * (embedded, no network between) are left as they are.
 */
function guardStatements(tx: unknown, record: TransactionRecord, abortedWith: () => AbortReason | undefined): void {
  const session = (tx as { session?: { client?: TxClient } }).session;
  const client = session?.client;
  if (!session || !client || typeof client.unsafe !== 'function') return;
  session.client = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'unsafe') return Reflect.get(target, property, receiver) as unknown;
      return (query: string, params?: unknown[], options?: unknown) => {
        const reason = abortedWith();
        if (reason) throw new OperationAbortedError(reason);
        const statement = target.unsafe(query, params, options);
        record.statement = statement;
        // Promise.prototype.then, not the query's own (which would start it before Drizzle
        // has chosen its result format): a settled statement is no longer cancelled.
        const settled = () => {
          if (record.statement === statement) record.statement = undefined;
        };
        Promise.prototype.then.call(statement, settled, settled);
        return statement;
      };
    },
  });
}

/** What a service hands over about its caller: the request's guard, when it has one. */
export interface GuardedScope {
  readonly guard?: OperationGuard;
}

/**
 * The transaction every write of a request runs in: guarded by the request's operation
 * guard when it has one (HTTP requests, WebSocket queries and mutations), else a plain
 * transaction (jobs).
 */
export function transaction<T>(db: Db, scope: GuardedScope, work: (tx: Tx) => Promise<T>): Promise<T> {
  return scope.guard ? scope.guard.transaction(db, work) : db.transaction(work);
}
