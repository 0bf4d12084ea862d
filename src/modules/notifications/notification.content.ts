import type { DomainEvent } from '../../outbox/domain-events.js';
import type { NotificationKind } from './notification.table.js';

export interface NotificationContent {
  kind: NotificationKind;
  title: string;
  body: string;
}

/** What the notification's text is built from, read once per batch. */
export interface Subject {
  courseTitle: string;
  lessonTitle: string | null;
}

const KIND_OF: Record<DomainEvent['type'], NotificationKind> = {
  'enrollment.confirmed': 'ENROLLMENT_CONFIRMED',
  'lesson.scheduled': 'LESSON_SCHEDULED',
  'lesson.rescheduled': 'LESSON_RESCHEDULED',
  'lesson.started': 'LESSON_STARTED',
  'lesson.completed': 'LESSON_COMPLETED',
  'lesson.cancelled': 'LESSON_CANCELLED',
  'lesson.reminder': 'LESSON_REMINDER',
  'user.registered': 'WELCOME',
  'certificate.issued': 'CERTIFICATE_ISSUED',
  'review.posted': 'REVIEW_POSTED',
  'course.access-granted': 'COURSE_ACCESS_GRANTED',
};

/** "Mon, 24 Nov 2026, 14:00 UTC": unambiguous in every recipient's inbox. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return 'a time to be announced';
  return new Date(iso).toLocaleString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: 'UTC',
    timeZoneName: 'short',
  });
}

export function renderNotification(event: DomainEvent, subject: Subject): NotificationContent {
  const kind = KIND_OF[event.type];
  if (event.type === 'user.registered') {
    return {
      kind,
      title: 'Welcome to EduFlow',
      body: 'Your account is ready. Browse the catalog, enroll in a course, and your lessons and their changes will show up here.',
    };
  }
  const course = subject.courseTitle;
  if (event.type === 'certificate.issued') {
    return {
      kind,
      title: `Your certificate for ${course}`,
      body: `Congratulations on completing ${course}. Your certificate ${event.code} can be downloaded and verified by anyone at ${event.verifyUrl}`,
    };
  }
  if (event.type === 'review.posted') {
    return {
      kind,
      title: `New review of ${course}`,
      body: `A student rated ${course} ${event.rating} out of 5. Read it and reply from the course's reviews.`,
    };
  }
  if (event.type === 'course.access-granted') {
    return {
      kind,
      title: `You have access to ${course}`,
      body:
        event.source === 'PURCHASE'
          ? `Thank you for your purchase. You are enrolled in ${course}.`
          : `You were given access to ${course}: you can enroll now.`,
    };
  }
  if (event.type === 'enrollment.confirmed') {
    return {
      kind,
      title: `You're enrolled in ${course}`,
      body: `Welcome to ${course}. New lessons and changes will show up here.`,
    };
  }
  const lesson = subject.lessonTitle ?? 'A lesson';
  const where = `"${lesson}" in ${course}`;
  switch (event.type) {
    case 'lesson.scheduled':
      return {
        kind,
        title: `New lesson: ${lesson}`,
        body: `${where} is scheduled for ${formatTime(event.scheduledAt)}.`,
      };
    case 'lesson.rescheduled':
      return {
        kind,
        title: `Rescheduled: ${lesson}`,
        body: `${where} moved from ${formatTime(event.previousScheduledAt)} to ${formatTime(event.scheduledAt)}.`,
      };
    case 'lesson.started':
      return { kind, title: `Live now: ${lesson}`, body: `${where} has started.` };
    case 'lesson.completed':
      return { kind, title: `Completed: ${lesson}`, body: `${where} is complete.` };
    case 'lesson.cancelled':
      return {
        kind,
        title: `Cancelled: ${lesson}`,
        body: `${where} was cancelled. ${event.reason ? `Reason: ${event.reason}` : 'No reason was given.'}`,
      };
    case 'lesson.reminder':
      return { kind, title: `Starting soon: ${lesson}`, body: `${where} starts at ${formatTime(event.scheduledAt)}.` };
  }
}
