/**
 * Domain events: what happened, written to the outbox in the transaction that made it happen
 * and turned into notifications by the workers. Plain JSON (ids, ISO dates), so they survive
 * the outbox's jsonb column and the job queue unchanged.
 */
export type LessonEventType =
  'lesson.scheduled' | 'lesson.rescheduled' | 'lesson.started' | 'lesson.completed' | 'lesson.cancelled';

export interface LessonDomainEvent {
  type: LessonEventType;
  lessonId: string;
  courseId: string;
  /** The lesson's time after the change (null when it has none). */
  scheduledAt: string | null;
  /** lesson.rescheduled only: the time it had before. */
  previousScheduledAt?: string | null;
  /** lesson.cancelled only. */
  reason?: string | null;
  occurredAt: string;
}

export interface EnrollmentConfirmedEvent {
  type: 'enrollment.confirmed';
  enrollmentId: string;
  studentId: string;
  courseId: string;
  occurredAt: string;
}

/** Not written to the outbox: raised by the reminder job when a lesson is about to start. */
export interface LessonReminderEvent {
  type: 'lesson.reminder';
  lessonId: string;
  courseId: string;
  scheduledAt: string;
  occurredAt: string;
}

/** A new account: its WELCOME notification (in the app and by email). */
export interface UserRegisteredEvent {
  type: 'user.registered';
  userId: string;
  occurredAt: string;
}

/** A password-reset or verification email to send (the worker mints its token). */
export interface AccountTokenRequestedEvent {
  type: 'account.token-requested';
  tokenId: string;
  userId: string;
  purpose: 'PASSWORD_RESET' | 'EMAIL_VERIFICATION';
  occurredAt: string;
}

/** What the notification jobs turn into notifications. */
export type NotificationEvent = LessonDomainEvent | EnrollmentConfirmedEvent | UserRegisteredEvent;
/** Every event written to the outbox; the relay routes account events to their own job. */
export type OutboxEvent = NotificationEvent | AccountTokenRequestedEvent;
export type DomainEvent = NotificationEvent | LessonReminderEvent;
