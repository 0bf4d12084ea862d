import { describe, expect, it } from 'vitest';
import { formatTime, renderNotification } from '../../src/modules/notifications/notification.content.js';
import { renderEmail } from '../../src/modules/notifications/notification.email.js';
import { derivedUuid } from '../../src/modules/notifications/notification.processors.js';

const subject = { courseTitle: 'Algebra', lessonTitle: 'Groups' };
const lessonEvent = {
  lessonId: 'l',
  courseId: 'c',
  scheduledAt: '2026-12-01T14:00:00.000Z',
  occurredAt: '2026-11-22T00:00:00.000Z',
};

describe(renderNotification.name, () => {
  it('names the course and lesson, and the reason of a cancellation', () => {
    const n = renderNotification({ ...lessonEvent, type: 'lesson.cancelled', reason: 'Snow' }, subject);
    expect(n).toEqual({
      kind: 'LESSON_CANCELLED',
      title: 'Cancelled: Groups',
      body: '"Groups" in Algebra was cancelled. Reason: Snow',
    });
    expect(renderNotification({ ...lessonEvent, type: 'lesson.cancelled', reason: null }, subject).body).toContain(
      'No reason was given.',
    );
  });

  it('gives both times of a reschedule, in UTC', () => {
    const n = renderNotification(
      { ...lessonEvent, type: 'lesson.rescheduled', previousScheduledAt: '2026-11-30T09:30:00.000Z' },
      subject,
    );
    expect(n.kind).toBe('LESSON_RESCHEDULED');
    expect(n.body).toBe(
      `"Groups" in Algebra moved from ${formatTime('2026-11-30T09:30:00.000Z')} to ${formatTime(lessonEvent.scheduledAt)}.`,
    );
    expect(formatTime('2026-11-30T09:30:00.000Z')).toMatch(/30 Nov 2026.*09:30 UTC/);
  });

  it('has a kind for every event type', () => {
    const kinds = (['lesson.scheduled', 'lesson.started', 'lesson.completed', 'lesson.reminder'] as const).map(
      (type) => renderNotification({ ...lessonEvent, type } as never, subject).kind,
    );
    expect(kinds).toEqual(['LESSON_SCHEDULED', 'LESSON_STARTED', 'LESSON_COMPLETED', 'LESSON_REMINDER']);
    expect(
      renderNotification(
        { type: 'enrollment.confirmed', enrollmentId: 'e', studentId: 's', courseId: 'c', occurredAt: '' },
        subject,
      ).kind,
    ).toBe('ENROLLMENT_CONFIRMED');
  });
});

describe(renderEmail.name, () => {
  it('escapes HTML and links to the course in the app', () => {
    const mail = renderEmail(
      { id: 'n', email: 'a@b.test', displayName: '<Eve>', title: 'T', body: 'x < y', courseSlug: 'algebra-1' },
      'https://app.test',
    );
    expect(mail.html).toContain('&lt;Eve&gt;');
    expect(mail.html).toContain('x &lt; y');
    expect(mail.text).toContain('https://app.test/courses/algebra-1');
  });
});

describe(derivedUuid.name, () => {
  it('is a stable, valid UUID per name', () => {
    const a = derivedUuid('reminder-x-1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedUuid('reminder-x-1')).toBe(a);
    expect(derivedUuid('reminder-x-2')).not.toBe(a);
  });
});
