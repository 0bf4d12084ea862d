import { and, asc, inArray, isNull, lt, sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../db/client.js';
import type { Logger } from '../logging/logger.js';
import type { JobQueue, JobSpec } from '../queue/jobs.js';
import type { OutboxEvent } from './domain-events.js';
import { outbox } from './outbox.table.js';

const OUTBOX_CHANNEL = 'eduflow_outbox';

export interface OutboxRelayOptions {
  readonly pollMs: number;
  /** A relayed event not processed this long after is queued again (with a new job id). */
  readonly requeueAfterMs: number;
  /** Rows moved per transaction. */
  readonly batchSize?: number;
}

/**
 * The job an outbox event becomes: account emails have their own; the rest are notifications.
 * `lsn` (with read replicas): where the primary's WAL was after the event committed.
 */
function jobOf(eventId: string, event: OutboxEvent, round: number, lsn: string | undefined): JobSpec {
  const jobId = round === 0 ? `event-${eventId}` : `event-${eventId}-r${round}`;
  const at = lsn === undefined ? {} : { lsn };
  if (event.type === 'account.token-requested') {
    return { name: 'accounts.token-email', data: { eventId, tokenId: event.tokenId, ...at }, opts: { jobId } };
  }
  if (event.type === 'course.completed') {
    const { enrollmentId, courseId, studentId } = event;
    return { name: 'certificates.issue', data: { eventId, enrollmentId, courseId, studentId, ...at }, opts: { jobId } };
  }
  if (event.type === 'quiz.attempt-started') {
    // This job queues the attempt's delayed expiry job, then marks the event processed.
    return { name: 'quizzes.expire', data: { eventId, attemptId: event.attemptId, ...at }, opts: { jobId } };
  }
  return { name: 'notifications.event', data: { eventId, event, round, ...at }, opts: { jobId } };
}

/**
 * Moves committed outbox rows into the job queue, oldest first, and stamps them relayed.
 *
 * - Wakes on NOTIFY (the outbox trigger fires at commit) and also polls, so an event waits
 *   milliseconds normally and at most one poll interval if a notification was missed.
 * - Rows are claimed with FOR UPDATE SKIP LOCKED: relays in many processes share the work
 *   without handing out a row twice at the same time.
 * - The job id is derived from the event id, so if the queue accepted the jobs but the stamp
 *   did not commit (a crash, a timeout), the next relay re-adds them and BullMQ adds nothing.
 * - Redis down: adding fails, the transaction rolls back, rows stay pending and are retried
 *   on every poll until Redis is back. The mutations that wrote them never noticed.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastErrorLogAt = 0;
  private lastSweepAt = 0;

  constructor(
    private readonly database: Database,
    private readonly jobs: JobQueue,
    private readonly log: Logger,
    private readonly options: OutboxRelayOptions,
  ) {}

  async start(): Promise<void> {
    try {
      this.unlisten = await this.database.listen(OUTBOX_CHANNEL, () => this.wake());
    } catch (err) {
      this.log.warn({ err }, 'outbox LISTEN failed; relying on polling');
    }
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Runs a relay pass now, or right after the current one. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Relays until nothing is pending (or an error: the next wake retries). */
  private async drain(): Promise<void> {
    try {
      if (Date.now() - this.lastSweepAt > Math.min(60_000, this.options.requeueAfterMs / 2)) {
        this.lastSweepAt = Date.now();
        await this.requeueStuck();
      }
      while (!this.stopped && (await this.relayOnce()) > 0);
    } catch (err) {
      // Redis or Postgres away: say so at most every 30 s, keep polling.
      if (Date.now() - this.lastErrorLogAt > 30_000) {
        this.lastErrorLogAt = Date.now();
        this.log.warn({ err }, 'outbox relay failed; events stay pending and will be retried');
      }
    }
  }

  /** One transaction: claim pending rows, queue them, stamp them. Returns how many. */
  async relayOnce(): Promise<number> {
    const size = this.options.batchSize ?? 200;
    return this.database.db.transaction(async (tx) => {
      const rows = await tx
        .select({ seq: outbox.seq, id: outbox.id, payload: outbox.payload, round: outbox.relayCount })
        .from(outbox)
        .where(isNull(outbox.relayedAt))
        .orderBy(asc(outbox.seq))
        .limit(size)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return 0;
      // These rows' commit records were in the WAL before the select saw them, so the primary's
      // insert position now is at or after each (even under synchronous_commit=off): a replica
      // that has replayed it holds their writes. Asked on this transaction's connection (another
      // would wait for a pool that may be exhausted).
      const lsn = this.database.replicas
        ? rowsOf<{ lsn: string }>(await tx.execute(sql`select pg_current_wal_insert_lsn()::text as lsn`))[0]!.lsn
        : undefined;
      await this.jobs.add(rows.map((r) => jobOf(r.id, r.payload as OutboxEvent, r.round, lsn)));
      await tx
        .update(outbox)
        .set({ relayedAt: sql`now()`, relayCount: sql`${outbox.relayCount} + 1` })
        .where(
          inArray(
            outbox.seq,
            rows.map((r) => r.seq),
          ),
        );
      return rows.length;
    });
  }

  /**
   * Events relayed long ago but never processed (their job lost with Redis data, or out of
   * attempts while something was down) go back to pending: the queue never is the only copy.
   */
  async requeueStuck(olderThanMs = this.options.requeueAfterMs): Promise<number> {
    const rows = await this.database.db
      .update(outbox)
      .set({ relayedAt: null })
      .where(
        and(
          isNull(outbox.processedAt),
          lt(outbox.relayedAt, sql`now() - make_interval(secs => ${olderThanMs / 1000})`),
        ),
      )
      .returning({ id: outbox.id });
    if (rows.length)
      this.log.warn({ events: rows.length }, 'outbox events were relayed but never processed; queueing them again');
    return rows.length;
  }

  /** Stops waking; waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.unlisten?.().catch(() => {});
    await this.running;
  }
}
