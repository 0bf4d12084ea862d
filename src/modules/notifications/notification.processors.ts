import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/client.js';
import { lessons } from '../../db/schema.js';
import type { Logger } from '../../logging/logger.js';
import type { Mailer } from '../../mail/mailer.js';
import type { DomainEvent, LessonDomainEvent } from '../../outbox/domain-events.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics, type NotificationAddedEvent } from '../../pubsub/topics.js';
import type { JobPayloads, JobQueue, Processors, RecipientRange } from '../../queue/jobs.js';
import { renderNotification } from './notification.content.js';
import { renderEmail } from './notification.email.js';
import { findPendingEmails, findSubject, insertNotifications, markEmailed, recipientRanges } from './notification.repository.js';

export interface NotificationProcessorDeps {
  readonly db: Db;
  readonly jobs: JobQueue;
  readonly bus: EventBus;
  readonly mailer: Mailer;
  readonly config: Pick<Config, 'notifications' | 'mail'>;
  readonly log: Logger;
}

/** Marks sent emails in groups: a crash repeats at most this many emails. */
const MARK_EMAILED_EVERY = 20;

/**
 * The notification pipeline, as job processors. Every step is safe to run twice:
 *   event    → plans recipient ranges → one batch job per range (job id from event + range)
 *   batch    → one INSERT ... SELECT ... ON CONFLICT DO NOTHING, live pushes for new rows,
 *              then an email job for the range
 *   email    → mails the range's notifications not yet mailed, stamping each as it goes
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

  async event({ eventId, event }: JobPayloads['notifications.event']): Promise<void> {
    if (event.type !== 'enrollment.confirmed' && event.type !== 'lesson.reminder') await this.moveReminder(event);
    await this.fanOut(eventId, event);
  }

  /** Splits the recipients into ranges and queues a batch job for each. */
  private async fanOut(eventId: string, event: DomainEvent): Promise<void> {
    const ranges = await recipientRanges(this.deps.db, event, this.deps.config.notifications.batchSize);
    await this.deps.jobs.add(
      ranges.map((range) => ({ name: 'notifications.batch', data: { eventId, event, range }, opts: { jobId: `batch-${eventId}-${rangeKey(range)}` } })),
    );
  }

  async batch({ eventId, event, range }: JobPayloads['notifications.batch']): Promise<void> {
    const { db, bus, jobs, log } = this.deps;
    const subject = await findSubject(db, event);
    if (!subject) return log.info({ eventId }, 'course gone; nothing to notify');
    const inserted = await insertNotifications(db, eventId, event, range, renderNotification(event, subject));
    // After the INSERT committed: live pushes are best effort (the row is what counts).
    await Promise.all(
      inserted.map(({ id, recipientId }) =>
        bus.publish(Topics.userNotifications(recipientId), { notificationId: id } satisfies NotificationAddedEvent).catch((err: unknown) => {
          log.warn({ err, notificationId: id }, 'live notification not pushed');
        }),
      ),
    );
    // Queued even when this run inserted nothing (a re-run): the email job skips what was mailed.
    await jobs.add([{ name: 'notifications.email', data: { eventId, range }, opts: { jobId: `email-${eventId}-${rangeKey(range)}` } }]);
  }

  async email({ eventId, range }: JobPayloads['notifications.email']): Promise<void> {
    const { db, mailer, config, log } = this.deps;
    const pending = await findPendingEmails(db, eventId, range);
    const sent: string[] = [];
    const failures: unknown[] = [];
    let next = 0;
    const flush = async () => markEmailed(db, sent.splice(0));
    const sender = async () => {
      while (next < pending.length) {
        const item = pending[next++]!;
        try {
          await mailer.send(renderEmail(item, config.mail.publicAppUrl));
          sent.push(item.id);
          if (sent.length >= MARK_EMAILED_EVERY) await flush();
        } catch (err) {
          failures.push(err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.mail.concurrency, pending.length) }, sender));
    await flush();
    if (failures.length) {
      log.warn({ eventId, failed: failures.length, sentOk: pending.length - failures.length }, 'some emails failed; the job will retry them');
      throw new Error(`${failures.length} of ${pending.length} emails failed: ${String((failures[0] as Error)?.message ?? failures[0])}`);
    }
  }

  async reminder({ lessonId, scheduledAt }: JobPayloads['notifications.reminder']): Promise<void> {
    const [lesson] = await this.deps.db.select().from(lessons).where(eq(lessons.id, lessonId));
    // Dropped unless the lesson is still due at exactly the time this reminder was set for
    // (a reschedule or cancellation whose job removal lost a race lands here).
    if (!lesson || lesson.status !== 'SCHEDULED' || lesson.scheduledAt?.toISOString() !== scheduledAt) return;
    const event: DomainEvent = { type: 'lesson.reminder', lessonId, courseId: lesson.courseId, scheduledAt, occurredAt: new Date().toISOString() };
    await this.fanOut(derivedUuid(reminderJobId(lessonId, scheduledAt)), event);
  }

  /** Schedules, moves or drops the lesson's reminder job as its time or status changes. */
  private async moveReminder(event: LessonDomainEvent): Promise<void> {
    const { jobs, config } = this.deps;
    const lead = config.notifications.reminderLeadMinutes * 60_000;
    if (event.type === 'lesson.rescheduled' && event.previousScheduledAt) {
      await jobs.remove('notifications.reminder', reminderJobId(event.lessonId, event.previousScheduledAt));
    }
    const stillDue = event.type === 'lesson.scheduled' || event.type === 'lesson.rescheduled';
    if (!stillDue) {
      if (event.scheduledAt) await jobs.remove('notifications.reminder', reminderJobId(event.lessonId, event.scheduledAt));
      return;
    }
    if (!lead || !event.scheduledAt) return;
    const startsIn = new Date(event.scheduledAt).getTime() - Date.now();
    if (startsIn <= 0) return;
    await jobs.add([
      {
        name: 'notifications.reminder',
        data: { lessonId: event.lessonId, scheduledAt: event.scheduledAt },
        opts: { jobId: reminderJobId(event.lessonId, event.scheduledAt), delay: Math.max(0, startsIn - lead) },
      },
    ]);
  }
}

export function reminderJobId(lessonId: string, scheduledAt: string): string {
  return `reminder-${lessonId}-${new Date(scheduledAt).getTime()}`;
}

function rangeKey(range: RecipientRange): string {
  return range.from ?? 'first';
}

/** A stable UUID for an event that has no outbox row (reminders), so re-runs share its key. */
export function derivedUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
