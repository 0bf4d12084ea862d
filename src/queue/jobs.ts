import type { Config } from '../config/config.js';
import type { DomainEvent } from '../outbox/domain-events.js';

/**
 * Every background job, the queue it runs on, and its payload: one typed map. Queues
 * separate work that must not wait behind other work (an SMTP outage must not hold up
 * in-app notifications).
 */
export const QUEUE_OF = {
  /** A domain event: plans its fan-out and moves lesson reminders. */
  'notifications.event': 'notifications',
  /** One slice of an event's recipients: one multi-row INSERT, then live pushes. */
  'notifications.batch': 'notifications',
  /** A delayed job that fires shortly before a lesson starts. */
  'notifications.reminder': 'notifications',
  /** Emails for one batch's notifications that have not been mailed yet. */
  'notifications.email': 'email',
  /** A password-reset or verification email: mints the token, sends it. */
  'accounts.token-email': 'email',
  /** A course completion: issues its one certificate (PDF included), then its notification event. */
  'certificates.issue': 'assessment',
  /** Delayed until a timed quiz attempt's deadline (plus grace): grades it EXPIRED if still open. */
  'quizzes.expire': 'assessment',
  /** Repeatable: expired sessions, old read notifications, relayed outbox rows. */
  'maintenance.cleanup': 'maintenance',
  /** Repeatable: the daily activity report. */
  'maintenance.activity-report': 'maintenance',
} as const;

export type JobName = keyof typeof QUEUE_OF;
export type QueueName = (typeof QUEUE_OF)[JobName];
export const QUEUE_NAMES = [...new Set(Object.values(QUEUE_OF))] as QueueName[];

/** A slice of recipients by id: `from` inclusive, `to` exclusive, null meaning unbounded. */
export interface RecipientRange {
  from: string | null;
  to: string | null;
}

/**
 * What every job the outbox relay queues carries: `lsn`, the primary's WAL position at or after
 * its event's commit (`pg_lsn` text), with read replicas only. A processor may run reads that
 * decide nothing under it (`readingAfter`); absent (older jobs, no replicas), all on the primary.
 */
interface Relayed {
  lsn?: string;
}

export interface JobPayloads {
  /** `round`: how many times the outbox relayed this event before (0 the first time). */
  'notifications.event': Relayed & { eventId: string; event: DomainEvent; round?: number };
  /** `batchId`: its row in notification_batches (absent in jobs queued before batches were recorded). */
  'notifications.batch': {
    eventId: string;
    event: DomainEvent;
    range: RecipientRange;
    round?: number;
    batchId?: string;
  };
  'notifications.reminder': { lessonId: string; scheduledAt: string };
  'notifications.email': { eventId: string; range: RecipientRange; batchId?: string };
  'accounts.token-email': Relayed & { eventId: string; tokenId: string };
  'certificates.issue': Relayed & { eventId: string; enrollmentId: string; courseId: string; studentId: string };
  'quizzes.expire': Relayed & { eventId?: string; attemptId: string };
  'maintenance.cleanup': Record<string, never>;
  'maintenance.activity-report': Record<string, never>;
}

interface JobOptions {
  /** Adding a job whose id exists already adds nothing. BullMQ forbids ':' in ids. */
  jobId?: string;
  /** Milliseconds before the job may run. */
  delay?: number;
}

export type JobSpec = { [N in JobName]: { name: N; data: JobPayloads[N]; opts?: JobOptions } }[JobName];

export interface JobInfo {
  readonly id: string;
  readonly name: JobName;
  /** Attempts that already failed before this one. */
  readonly attemptsMade: number;
}

export type Processors = { [N in JobName]: (data: JobPayloads[N], job: JobInfo) => Promise<void> };

export type QueueCounts = Record<QueueName, Record<string, number>>;

/**
 * The job queue: BullMQ on Redis in production, an in-process twin in the embedded mode.
 * Everything above it (relay, services, processors) is the same code either way.
 */
export interface JobQueue {
  readonly kind: 'bullmq' | 'memory';
  add(jobs: JobSpec[]): Promise<void>;
  /** Removes a waiting or delayed job; a job already running is left alone. */
  remove(name: JobName, jobId: string): Promise<void>;
  /** A repeatable job on a cron pattern (UTC); declaring it again, anywhere, keeps one. */
  schedule(name: JobName, schedulerId: string, pattern: string): Promise<void>;
  /**
   * Gives failed jobs created in the last `maxAgeMs` a fresh set of attempts: an outage longer
   * than a job's whole retry budget delays its work instead of losing it. Returns how many.
   */
  reviveFailed(queue: QueueName, maxAgeMs: number): Promise<number>;
  /** Starts processing jobs with these processors until `close`. */
  work(processors: Processors): Promise<void>;
  counts(): Promise<QueueCounts>;
  /**
   * Calls `listener` when the queue's store came back without its data (BullMQ: Redis
   * restarted empty or failed over to a replica that lacked the latest writes).
   */
  onDataLost?(listener: () => void): void;
  close(): Promise<void>;
}

/** What a queue needs of the configuration (see `Config['jobs']` for what each means). */
export type QueueSettings = Omit<Config['jobs'], 'drainMs'>;

/** Exponential back-off with ±50% jitter: retries of many jobs do not arrive together. */
export function backoffDelay(attemptsMade: number, baseMs: number, random = Math.random): number {
  const exp = baseMs * 2 ** Math.max(0, attemptsMade - 1);
  return Math.round(Math.min(exp, 3_600_000) * (0.5 + random()));
}
