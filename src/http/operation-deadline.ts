import type { CircuitBreaker } from '../db/breaker.js';
import { OperationGuard, type AbortReason } from '../db/operation-guard.js';

/** How long a given-up operation may take to roll back before its 503 goes out anyway. */
const ROLLBACK_GRACE_MS = 1_000;
/** Retry-After (seconds) on every 503 this module writes. */
export const RETRY_AFTER_SECONDS = 1;

type UnavailableReason = AbortReason | 'OUTCOME_UNKNOWN';

/** Writes a given-up operation's answer (status, headers, JSON body). */
export type Answer = (status: number, headers: Array<[string, string]>, body: string) => void;

/**
 * One request's deadline: its operation guard (the abort signal the data layer honours),
 * the operation timeout, and the give-up answer. Shared by the node:http hot path and the
 * Express path, so both answer alike.
 */
export class Deadline {
  readonly guard = new OperationGuard();
  /** Set the moment the request is given up: the operation's own answer is dropped from then on. */
  givenUp = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly owner: OperationDeadlines,
    private readonly answer: Answer,
    private readonly hold: () => void,
  ) {}

  /** @internal */
  arm(ms: number): void {
    this.timer = setTimeout(() => void this.giveUp('TIMEOUT'), ms);
  }

  /** The request was answered (or its client went away): nothing more to do. */
  done(): void {
    clearTimeout(this.timer);
    this.owner.release(this);
  }

  /**
   * Aborts the operation and answers 503 once its transactions are rolled back (at most
   * ROLLBACK_GRACE_MS; a transaction not yet committing never commits, whatever the wait).
   * An operation that has already committed a transaction is not given up: its answer,
   * which tells what it did, is on its way.
   */
  async giveUp(reason: AbortReason): Promise<void> {
    if (this.givenUp || this.guard.outcome() === 'committed') return;
    this.givenUp = true;
    this.hold();
    clearTimeout(this.timer);
    this.guard.abort(reason);
    await this.guard.settle(ROLLBACK_GRACE_MS);
    // `committed` now means the COMMIT in flight at the abort was confirmed meanwhile: the
    // answer is still "unknown" to a client told nothing else.
    const outcome = this.guard.outcome();
    const [status, headers, body] = unavailableAnswer(
      outcome === 'not-committed' ? reason : 'OUTCOME_UNKNOWN',
      this.owner.timeoutMs,
    );
    this.owner.release(this);
    this.answer(status, headers, body);
  }
}

/**
 * The operation timeout of every HTTP GraphQL request, and the breaker's reach into requests
 * in flight: when the database circuit opens, each is given up at once (DATABASE_UNAVAILABLE)
 * rather than waiting for its timeout on a server that will not answer.
 */
export class OperationDeadlines {
  private readonly live = new Set<Deadline>();

  constructor(
    readonly timeoutMs: number,
    breaker?: CircuitBreaker,
  ) {
    breaker?.subscribe((state) => {
      if (state !== 'open') return;
      for (const d of this.live) void d.giveUp('DATABASE_UNAVAILABLE');
    });
  }

  /**
   * `hold` is called the moment the request is given up (from then on the operation's own
   * answer must be dropped); `answer` writes the 503 once its transactions are rolled back.
   */
  start(answer: Answer, hold: () => void = () => {}): Deadline {
    const deadline = new Deadline(this, answer, hold);
    deadline.arm(this.timeoutMs);
    this.live.add(deadline);
    return deadline;
  }

  /** @internal */
  release(deadline: Deadline): void {
    this.live.delete(deadline);
  }
}

const MESSAGES: Record<UnavailableReason, (ms: number) => string> = {
  TIMEOUT: (ms) => `The request did not finish within ${ms} ms and was not committed; try again`,
  DATABASE_UNAVAILABLE: () => 'The database is unreachable; the request was not committed; try again shortly',
  OUTCOME_UNKNOWN: () =>
    'The database did not confirm the commit: the mutation may or may not have taken effect; ' +
    'check before repeating it, or repeat it with the same clientMutationId',
};

/** A 503 SERVICE_UNAVAILABLE answer with its reason and Retry-After. */
function unavailableAnswer(reason: UnavailableReason, timeoutMs: number): [number, Array<[string, string]>, string] {
  return [
    503,
    [
      ['content-type', 'application/json; charset=utf-8'],
      ['retry-after', String(RETRY_AFTER_SECONDS)],
    ],
    JSON.stringify({
      errors: [{ message: MESSAGES[reason](timeoutMs), extensions: { code: 'SERVICE_UNAVAILABLE', reason } }],
    }),
  ];
}
