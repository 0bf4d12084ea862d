import { createHash } from 'node:crypto';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/client.js';
import { lessons } from '../../db/schema.js';
import type { Logger } from '../../logging/logger.js';
import type { Mailer } from '../../mail/mailer.js';
import type { DomainEvent, LessonDomainEvent } from '../../outbox/domain-events.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics, type NotificationAddedEvent } from '../../pubsub/topics.js';
import { markOutboxProcessed } from '../../outbox/outbox.js';
import type { JobPayloads, JobQueue, JobSpec, Processors, RecipientRange } from '../../queue/jobs.js';
import { renderNotification } from './notification.content.js';
import { renderEmail } from './notification.email.js';
import { claimEmails, eventsOwedEmails, findSubject, insertNotifications, markEmailed, recipientRanges, releaseEmailClaims } from './notification.repository.js';

export interface NotificationProcessorDeps {
  readonly db: Db;
  readonly jobs: JobQueue;
  readonly bus: EventBus;
  readonly mailer: Mailer;
  readonly config: Pick<Config, 'notifications' | 'mail'>;
  readonly log: Logger;
  /** True once the process is shutting down: long jobs stop early and are retried later. */
  readonly stopping?: () => boolean;
}

/** Emails one job run claims (and so may send) at most. */
const EMAILS_PER_RUN = 500;
/** How long a claim on a row keeps other runs off it. Far longer than a run takes. */
const EMAIL_CLAIM_MS = 30 * 60_000;

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

  processors(): Pick<Processors, 'notifications.event' | 'notifications.batch' | 'notifications.reminder' | 'notifications.email'> {
    return {
      'notifications.event': (data) => this.event(data),
      'notifications.batch': (data) => this.batch(data),
      'notifications.reminder': (data) => this.reminder(data),
      'notifications.email': (data) => this.email(data),
    };
  }

  async event({ eventId, event, round = 0 }: JobPayloads['notifications.event']): Promise<void> {
    if ('lessonId' in event && event.type !== 'lesson.reminder') await this.moveReminder(event);
    await this.fanOut(eventId, event, round);
    await markOutboxProcessed(this.deps.db, eventId);
  }

  /** Splits the recipients into ranges and queues a batch job for each. */
  private async fanOut(eventId: string, event: DomainEvent, round: number): Promise<void> {
    const ranges = await recipientRanges(this.deps.db, event, this.deps.config.notifications.batchSize);
    await this.deps.jobs.add(
      ranges.map((range) => ({
        name: 'notifications.batch',
        data: { eventId, event, range, round },
        // A re-relayed event (round > 0) must not be swallowed by the ids of earlier rounds' jobs.
        opts: { jobId: `batch-${eventId}-r${round}-${rangeKey(range)}` },
      })),
    );
  }

  async batch({ eventId, event, range, round = 0 }: JobPayloads['notifications.batch']): Promise<void> {
    const { db, bus, jobs, log } = this.deps;
    const subject = await findSubject(db, event);
    if (!subject) return log.info({ eventId }, 'course gone; nothing to notify');
    const inserted = await insertNotifications(db, eventId, event, range, renderNotification(event, subject));
    // After the INSERT committed: live pushes are best effort (the row is what counts; a crash
    // right here loses the push, not the notification).
    await Promise.all(
      inserted.map(({ id, recipientId }) =>
        bus.publish(Topics.userNotifications(recipientId), { notificationId: id } satisfies NotificationAddedEvent).catch((err: unknown) => {
          log.warn({ err, notificationId: id }, 'live notification not pushed');
        }),
      ),
    );
    // Queued even when this run inserted nothing (a re-run): the email job skips what was mailed.
    await jobs.add([{ name: 'notifications.email', data: { eventId, range }, opts: { jobId: `email-${eventId}-r${round}-${rangeKey(range)}` } }]);
  }

  /**
   * Claims the range's rows still owed an email, then mails and stamps them one by one, so a
   * crash repeats at most the emails in flight. Failures release their claims and fail the
   * job, which retries them (only them). Stops early on shutdown.
   */
  async email({ eventId, range }: JobPayloads['notifications.email']): Promise<void> {
    const { db, mailer, config, log } = this.deps;
    for (;;) {
      const claimed = await claimEmails(db, eventId, range, EMAILS_PER_RUN, EMAIL_CLAIM_MS);
      if (!claimed.length) return;
      const unsent = new Set(claimed.map((c) => c.id));
      const failures: unknown[] = [];
      let next = 0;
      const sender = async () => {
        while (next < claimed.length && !this.deps.stopping?.()) {
          const item = claimed[next++]!;
          try {
            await mailer.send(renderEmail(item, config.mail.publicAppUrl));
          } catch (err) {
            failures.push(err);
            continue;
          }
          unsent.delete(item.id);
          await markEmailed(db, item.id);
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(config.mail.concurrency, claimed.length) }, sender));
      } finally {
        await releaseEmailClaims(db, [...unsent]).catch((err: unknown) => log.warn({ err }, 'could not release email claims; they expire'));
      }
      if (failures.length) {
        log.warn({ eventId, failed: failures.length, sent: claimed.length - unsent.size }, 'some emails failed; the job will retry them');
        throw new Error(`${failures.length} of ${claimed.length} emails failed: ${String((failures[0] as Error)?.message ?? failures[0])}`);
      }
      if (unsent.size) throw new Error('shutting down; the remaining emails are retried');
      if (claimed.length < EMAILS_PER_RUN) return;
    }
  }

  async reminder({ lessonId, scheduledAt }: JobPayloads['notifications.reminder']): Promise<void> {
    const [lesson] = await this.deps.db.select().from(lessons).where(eq(lessons.id, lessonId));
    // Dropped unless the lesson is still due at exactly the time this reminder was set for
    // (a reschedule or cancellation whose job removal lost a race lands here).
    if (!lesson || lesson.status !== 'SCHEDULED' || lesson.scheduledAt?.toISOString() !== scheduledAt) return;
    const event: DomainEvent = { type: 'lesson.reminder', lessonId, courseId: lesson.courseId, scheduledAt, occurredAt: new Date().toISOString() };
    await this.fanOut(derivedUuid(reminderJobId(lessonId, scheduledAt)), event, 0);
  }

  /**
   * Makes the lesson's reminder match the lesson as it is now, not as the event says: events
   * may be processed out of order or again, and the database is the truth. Drops reminders
   * for times the lesson no longer has; (re)adds the one for its current time.
   */
  private async moveReminder(event: LessonDomainEvent): Promise<void> {
    const [lesson] = await this.deps.db
      .select({ status: lessons.status, scheduledAt: lessons.scheduledAt })
      .from(lessons)
      .where(eq(lessons.id, event.lessonId));
    const current = lesson?.status === 'SCHEDULED' && lesson.scheduledAt ? lesson.scheduledAt.toISOString() : null;
    for (const time of new Set([event.previousScheduledAt, event.scheduledAt])) {
      if (time && time !== current) await this.deps.jobs.remove('notifications.reminder', reminderJobId(event.lessonId, time));
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
    for (let after: Date | null = null; ; ) {
      const rows: Array<{ id: string; scheduledAt: Date | null }> = await this.deps.db
        .select({ id: lessons.id, scheduledAt: lessons.scheduledAt })
        .from(lessons)
        .where(and(eq(lessons.status, 'SCHEDULED'), gt(lessons.scheduledAt, after ?? new Date())))
        .orderBy(asc(lessons.scheduledAt))
        .limit(1_000);
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
        opts: { jobId: reminderJobId(l.lessonId, l.scheduledAt), delay: Math.max(0, new Date(l.scheduledAt).getTime() - lead - Date.now()) },
      }));
  }
}

export function reminderJobId(lessonId: string, scheduledAt: string): string {
  return `reminder-${lessonId}-${new Date(scheduledAt).getTime()}`;
}

function rangeKey(range: RecipientRange): string {
  return `${range.from ?? 'first'}-${range.to ?? 'last'}`;
}

/** A stable UUID for an event that has no outbox row (reminders), so re-runs share its key. */
export function derivedUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
