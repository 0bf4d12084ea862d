import { createHash, randomUUID } from 'node:crypto';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/client.js';
import { readingAfter } from '../../db/replicas/read-route.js';
import type { Logger } from '../../logging/logger.js';
import type { Mailer } from '../../mail/mailer.js';
import type { DomainEvent, LessonDomainEvent } from '../../outbox/domain-events.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics, type NotificationAddedEvent } from '../../pubsub/topics.js';
import { markOutboxProcessed } from '../../outbox/outbox.js';
import type { JobPayloads, JobQueue, JobSpec, Processors, RecipientRange } from '../../queue/jobs.js';
import { renderNotification } from './notification.content.js';
import type { NotificationBatchRow } from '../../db/schema.js';
import { EmailRun } from './notification.email-run.js';
import { markBatchDone, markBatchMailed, planBatches, takeStaleBatches } from './notification-batch.repository.js';
import {
  claimEmails,
  emailsStillOwed,
  eventsOwedEmails,
  findSubject,
  insertNotifications,
  lessonSchedule,
  recipientRanges,
  scheduledLessonsAfter,
} from './notification.repository.js';

export interface NotificationProcessorDeps {
  readonly db: Db;
  readonly jobs: JobQueue;
  readonly bus: EventBus;
  readonly mailer: Mailer;
  readonly config: Pick<Config, 'notifications' | 'mail' | 'jobs'>;
  readonly log: Logger;
  /** True once the process is shutting down: long jobs stop early and are retried later. */
  readonly stopping?: () => boolean;
}

/** Emails one run claims (and so may send) at most. */
const EMAILS_PER_RUN = 500;
/** How long an email job waits for rows another run holds before it fails (and retries). */
const MAX_WAIT_FOR_CLAIMS_MS = 5 * 60_000;

/**
 * The notification pipeline, as job processors. Every step is safe to run twice:
 *   event    → plans recipient ranges → one batch job per range (job id from event, round,
 *              range); moves the lesson's reminder; stamps the outbox row processed
 *   batch    → one INSERT ... SELECT ... ON CONFLICT DO NOTHING, live pushes for new rows,
 *              then an email job for the range
 *   email    → claims the range's notifications still owed an email, mails and stamps each
 *   reminder → (delayed) if the lesson is still due at that time, an event of its own
 */
export class NotificationProcessors {
  constructor(private readonly deps: NotificationProcessorDeps) {}

  processors(): Pick<
    Processors,
    'notifications.event' | 'notifications.batch' | 'notifications.reminder' | 'notifications.email'
  > {
    return {
      'notifications.event': (data) => this.event(data),
      'notifications.batch': (data) => this.batch(data),
      'notifications.reminder': (data) => this.reminder(data),
      'notifications.email': (data) => this.email(data),
    };
  }

  async event({ eventId, event, lsn }: JobPayloads['notifications.event']): Promise<void> {
    if ('lessonId' in event && event.type !== 'lesson.reminder') await this.moveReminder(event);
    await this.fanOut(eventId, event, lsn);
    // The plan is in Postgres now: the batch sweep owns what is left, whatever Redis loses.
    await markOutboxProcessed(this.deps.db, eventId);
  }

  /**
   * Plans the event's batches in Postgres (once) and queues a job for each unfinished one. A
   * batch's job id is its row id: adding it again while it is queued adds nothing, and after
   * Redis lost it adds it back.
   *
   * With read replicas, the recipient ranges are the one read here that may use one, and only
   * one that has replayed the event's write (`lsn`): ranges always cover every id, so whatever
   * they were computed from no recipient is missed, and a replica at or past the write splits
   * its students into batches of at most NOTIFICATION_BATCH_SIZE (a stale one would put them
   * all in one unbounded INSERT). Every other read of the pipeline stays on the primary: the
   * existing plan (an idempotency check), the lesson for its reminder, the subject (it decides
   * a batch is finished), the recipients themselves (INSERT ... SELECT) and the email claims
   * decide writes, and a replica may not have replayed what came after the event.
   */
  private async fanOut(eventId: string, event: DomainEvent, lsn?: string): Promise<void> {
    const { db, config, jobs } = this.deps;
    const batches = await planBatches(db, eventId, event, () =>
      readingAfter(lsn, () => recipientRanges(db, event, config.notifications.batchSize)),
    );
    await jobs.add(batches.filter((b) => !b.mailedAt).map((b) => (b.doneAt ? emailJob(b) : batchJob(b))));
  }

  /** Batches unfinished long after they were queued (their jobs lost with Redis data): queued again. */
  async requeueStaleBatches(olderThanMs: number): Promise<number> {
    const stale = await takeStaleBatches(this.deps.db, olderThanMs, 1_000);
    await this.deps.jobs.add(stale.map((b) => (b.doneAt ? emailJob(b) : batchJob(b))));
    if (stale.length)
      this.deps.log.warn(
        { batches: stale.length },
        'notification batches unfinished long after they were queued; queued again',
      );
    return stale.length;
  }

  /**
   * After the queue lost its data: every unfinished batch and every notification still owed
   * an email is queued again at once (job ids and email claims keep a run that is still going
   * from doing the work twice), and the reminders are rebuilt.
   */
  async requeueAfterLoss(): Promise<{ batches: number; emailRuns: number }> {
    const { jobs, db } = this.deps;
    let batches = 0;
    for (let n = 1_000; n === 1_000; batches += n) n = await this.requeueStaleBatches(0);
    const owed = await eventsOwedEmails(db, 0, 48, 1_000);
    const at = Date.now();
    await jobs.add(
      owed.map((eventId) => ({
        name: 'notifications.email' as const,
        data: { eventId, range: { from: null, to: null } },
        opts: { jobId: `email-${eventId}-loss${at}` },
      })),
    );
    await this.rebuildReminders();
    return { batches, emailRuns: owed.length };
  }

  async batch({ eventId, event, range, round = 0, batchId }: JobPayloads['notifications.batch']): Promise<void> {
    const { db, bus, jobs, log } = this.deps;
    const subject = await findSubject(db, event);
    if (!subject) {
      log.info({ eventId }, 'course gone; nothing to notify');
      if (batchId) await markBatchMailed(db, batchId);
      return;
    }
    const inserted = await insertNotifications(db, eventId, event, range, renderNotification(event, subject));
    // After the INSERT committed: live pushes are best effort (the row is what counts; a crash
    // right here loses the push, not the notification). Not awaited one by one: each publish
    // is bounded by the bus's command timeout.
    await Promise.all(
      inserted.map(({ id, recipientId }) =>
        bus
          .publish(Topics.userNotifications(recipientId), { notificationId: id } satisfies NotificationAddedEvent)
          .catch((err: unknown) => {
            log.warn({ err, notificationId: id }, 'live notification not pushed');
          }),
      ),
    );
    // Queued even when this run inserted nothing (a re-run): the email job skips what was mailed.
    await jobs.add([
      batchId
        ? { name: 'notifications.email', data: { eventId, range, batchId }, opts: { jobId: `email-${batchId}` } }
        : {
            name: 'notifications.email',
            data: { eventId, range },
            opts: { jobId: `email-${eventId}-r${round}-${rangeKey(range)}` },
          },
    ]);
    if (batchId) await markBatchDone(db, batchId);
  }

  /**
   * Claims the range's rows still owed an email for this run, then mails and stamps them one
   * by one, so a crash repeats at most the emails in flight. Claims are leases as long as a
   * job lock, renewed while the run lives: a crashed run's rows are free about when its job
   * is taken over, and the taken-over job waits for them rather than finishing empty. Send
   * failures release their rows (only once every sender has settled) and fail the job, which
   * retries them. Stops early on shutdown.
   */
  async email({ eventId, range, batchId }: JobPayloads['notifications.email']): Promise<void> {
    const { db, config, log } = this.deps;
    const leaseMs = config.jobs.lockDurationMs;
    let waitingSince = Date.now();
    for (;;) {
      if (this.deps.stopping?.()) throw new Error('shutting down; the remaining emails are retried');
      const runId = randomUUID();
      const claimedAt = Date.now();
      const claimed = await claimEmails(db, eventId, range, EMAILS_PER_RUN, leaseMs, runId);
      if (!claimed.length) {
        const { owed, msUntilFree } = await emailsStillOwed(db, eventId, range);
        if (!owed) {
          if (batchId) await markBatchMailed(db, batchId);
          return;
        }
        // Held by another run: one alive finishes them, a dead one's lease runs out soon.
        if (Date.now() - waitingSince > MAX_WAIT_FOR_CLAIMS_MS)
          throw new Error(`${owed} emails still claimed by another run; retrying later`);
        await sleep(Math.min(Math.max(msUntilFree ?? 0, 100) + 50, leaseMs));
        continue;
      }
      waitingSince = Date.now();
      const result = await new EmailRun(
        db,
        this.deps.mailer,
        config.mail,
        log,
        runId,
        leaseMs,
        claimedAt,
        this.deps.stopping,
      ).send(claimed);
      if (result.failures.length) {
        log.warn(
          { eventId, failed: result.failures.length, sent: result.sent },
          'some emails failed; the job will retry them',
        );
        throw new Error(
          `${result.failures.length} of ${claimed.length} emails failed: ${String((result.failures[0] as Error)?.message ?? result.failures[0])}`,
        );
      }
      if (result.unsent)
        throw new Error('shutting down (or the claims could not be renewed); the remaining emails are retried');
    }
  }

  async reminder({ lessonId, scheduledAt }: JobPayloads['notifications.reminder']): Promise<void> {
    const lesson = await lessonSchedule(this.deps.db, lessonId);
    // Dropped unless the lesson is still due at exactly the time this reminder was set for
    // (a reschedule or cancellation whose job removal lost a race lands here).
    if (!lesson || lesson.status !== 'SCHEDULED' || lesson.scheduledAt?.toISOString() !== scheduledAt) return;
    const event: DomainEvent = {
      type: 'lesson.reminder',
      lessonId,
      courseId: lesson.courseId,
      scheduledAt,
      occurredAt: new Date().toISOString(),
    };
    await this.fanOut(derivedUuid(reminderJobId(lessonId, scheduledAt)), event);
  }

  /**
   * Makes the lesson's reminder match the lesson as it is now, not as the event says: events
   * may be processed out of order or again, and the database is the truth. Drops reminders
   * for times the lesson no longer has; (re)adds the one for its current time.
   */
  private async moveReminder(event: LessonDomainEvent): Promise<void> {
    const lesson = await lessonSchedule(this.deps.db, event.lessonId);
    const current = lesson?.status === 'SCHEDULED' && lesson.scheduledAt ? lesson.scheduledAt.toISOString() : null;
    for (const time of new Set([event.previousScheduledAt, event.scheduledAt])) {
      if (time && time !== current)
        await this.deps.jobs.remove('notifications.reminder', reminderJobId(event.lessonId, time));
    }
    if (current) await this.deps.jobs.add(this.reminderJobs([{ lessonId: event.lessonId, scheduledAt: current }]));
  }

  /**
   * Self-healing, run by the periodic cleanup: failed jobs of the last day get fresh attempts
   * (an outage longer than a job's retry budget only delays it), and notifications still owed
   * an email long after they were made get an email job again (one lost with Redis data).
   * Claims keep this from ever mailing a row twice at the same time.
   */
  async heal(): Promise<{ revivedJobs: number; emailSweeps: number }> {
    const { jobs, db } = this.deps;
    const day = 86_400_000;
    const revivedJobs = (await jobs.reviveFailed('notifications', day)) + (await jobs.reviveFailed('email', day));
    const owed = await eventsOwedEmails(db, 60, 48, 200);
    const hour = Math.floor(Date.now() / 3_600_000);
    await jobs.add(
      owed.map((eventId) => ({
        name: 'notifications.email' as const,
        data: { eventId, range: { from: null, to: null } },
        opts: { jobId: `email-${eventId}-sweep${hour}` },
      })),
    );
    return { revivedJobs, emailSweeps: owed.length };
  }

  /**
   * Queues the reminders of every scheduled lesson still ahead (job ids are deterministic, so
   * existing ones are kept): after a restart of the in-process queue, or Redis losing data.
   */
  async rebuildReminders(): Promise<number> {
    if (!this.deps.config.notifications.reminderLeadMinutes) return 0;
    let added = 0;
    for (let after: Date | null = null; ;) {
      const rows = await scheduledLessonsAfter(this.deps.db, after ?? new Date(), 1_000);
      const jobs = this.reminderJobs(rows.map((r) => ({ lessonId: r.id, scheduledAt: r.scheduledAt!.toISOString() })));
      await this.deps.jobs.add(jobs);
      added += jobs.length;
      if (rows.length < 1_000) return added;
      after = rows.at(-1)!.scheduledAt;
    }
  }

  private reminderJobs(lessons: Array<{ lessonId: string; scheduledAt: string }>): JobSpec[] {
    const lead = this.deps.config.notifications.reminderLeadMinutes * 60_000;
    if (!lead) return [];
    return lessons
      .filter((l) => new Date(l.scheduledAt).getTime() > Date.now())
      .map((l) => ({
        name: 'notifications.reminder' as const,
        data: l,
        opts: {
          jobId: reminderJobId(l.lessonId, l.scheduledAt),
          delay: Math.max(0, new Date(l.scheduledAt).getTime() - lead - Date.now()),
        },
      }));
  }
}

export function reminderJobId(lessonId: string, scheduledAt: string): string {
  return `reminder-${lessonId}-${new Date(scheduledAt).getTime()}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function batchJob(b: NotificationBatchRow): JobSpec {
  return {
    name: 'notifications.batch',
    data: {
      eventId: b.eventId,
      event: b.event as DomainEvent,
      range: { from: b.rangeFrom, to: b.rangeTo },
      batchId: b.id,
    },
    opts: { jobId: `batch-${b.id}` },
  };
}

function emailJob(b: NotificationBatchRow): JobSpec {
  return {
    name: 'notifications.email',
    data: { eventId: b.eventId, range: { from: b.rangeFrom, to: b.rangeTo }, batchId: b.id },
    opts: { jobId: `email-${b.id}` },
  };
}

function rangeKey(range: RecipientRange): string {
  return `${range.from ?? 'first'}-${range.to ?? 'last'}`;
}

/** A stable UUID for an event that has no outbox row (reminders), so re-runs share its key. */
export function derivedUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
