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

interface EnrollmentConfirmedEvent {
  type: 'enrollment.confirmed';
  enrollmentId: string;
  studentId: string;
  courseId: string;
  occurredAt: string;
}

/** Not written to the outbox: raised by the reminder job when a lesson is about to start. */
interface LessonReminderEvent {
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
interface AccountTokenRequestedEvent {
  type: 'account.token-requested';
  tokenId: string;
  userId: string;
  purpose: 'PASSWORD_RESET' | 'EMAIL_VERIFICATION';
  occurredAt: string;
}

/**
 * A student completed a course (every counted lesson marked, every required quiz passed):
 * the certificate worker issues its one certificate.
 */
export interface CourseCompletedEvent {
  type: 'course.completed';
  enrollmentId: string;
  courseId: string;
  studentId: string;
  occurredAt: string;
}

/** A certificate was issued: its CERTIFICATE_ISSUED notification (in the app and by email). */
export interface CertificateIssuedEvent {
  type: 'certificate.issued';
  certificateId: string;
  courseId: string;
  studentId: string;
  code: string;
  /** Where anyone can check it (the PDF's address), printed in the email. */
  verifyUrl: string;
  occurredAt: string;
}

/**
 * A timed quiz attempt started: a delayed job grades it EXPIRED if it is still in progress
 * after its deadline (a periodic sweep catches any job the queue lost).
 */
interface QuizAttemptStartedEvent {
  type: 'quiz.attempt-started';
  attemptId: string;
  deadline: string;
  occurredAt: string;
}

/** A review was written or rewritten: its REVIEW_POSTED notification to the course's instructor. */
export interface ReviewPostedEvent {
  type: 'review.posted';
  reviewId: string;
  courseId: string;
  instructorId: string;
  rating: number;
  occurredAt: string;
}

/** A payment or a grant gave a student access to a paid course: COURSE_ACCESS_GRANTED to them. */
export interface CourseAccessGrantedEvent {
  type: 'course.access-granted';
  entitlementId: string;
  courseId: string;
  studentId: string;
  source: 'PURCHASE' | 'GRANT';
  occurredAt: string;
}

/** What the notification jobs turn into notifications. */
export type NotificationEvent =
  | LessonDomainEvent
  | EnrollmentConfirmedEvent
  | UserRegisteredEvent
  | CertificateIssuedEvent
  | ReviewPostedEvent
  | CourseAccessGrantedEvent;
/** Every event written to the outbox; the relay routes account, completion and quiz events to their own jobs. */
export type OutboxEvent =
  NotificationEvent | AccountTokenRequestedEvent | CourseCompletedEvent | QuizAttemptStartedEvent;
export type DomainEvent = NotificationEvent | LessonReminderEvent;
