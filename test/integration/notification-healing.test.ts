import { Queue } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { notifications, outbox, type UserRow } from '../../src/db/schema.js';
import { reminderJobId } from '../../src/modules/notifications/index.js';
import type { LessonDomainEvent } from '../../src/outbox/domain-events.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { enrollStudents, notificationTally, pipelineSettled, startSmtpSink } from '../helpers/notifications.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { queuePrefix } from '../../src/queue/index.js';

const CANCEL = `mutation($id: ID!) { cancelLesson(id: $id) { id } }`;

/**
 * The queue is never the only copy of pending work: what a long outage, lost Redis data, or
 * events out of order would drop is found and finished.
 */
describe('notification self-healing', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  let smtpDown = true;
  let instructor: UserRow, token: string;
  const queues: Queue[] = [];

  beforeAll(async () => {
    smtp = await startSmtpSink({ reject: () => smtpDown });
    t = await startTestApp({
      NOTIFICATION_WORKER: 'on',
      SMTP_URL: smtp.url,
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '20',
      OUTBOX_POLL_MS: '200',
      OUTBOX_REQUEUE_AFTER_SECONDS: '2',
      REMINDER_LEAD_MINUTES: '15',
    });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    token = await t.tokenFor(instructor);
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await t?.close();
    await smtp?.close();
  });

  const db = () => t.app.database.db;
  const queue = (name: string) => {
    const q = new Queue(name, {
      connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }),
      prefix: queuePrefix(t.redisPrefix),
    });
    queues.push(q);
    return q;
  };
  const runCleanup = () =>
    t.app.background!.jobs.add([
      { name: 'maintenance.cleanup', data: {}, opts: { jobId: `cleanup-${Date.now()}-${Math.random()}` } },
    ]);

  it('mails, exactly once each, after an SMTP outage that outlasted every retry', async () => {
    const course = await t.make.course(instructor.id);
    await enrollStudents(db(), course.id, 4);
    const lesson = await t.make.lesson(course.id);
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });
    await vi.waitFor(
      async () => {
        const x = await notificationTally(db(), 'LESSON_CANCELLED', course.id);
        expect(x.total).toBe(4);
        return x;
      },
      { timeout: 20_000, interval: 50 },
    );
    const email = queue('email');
    await vi.waitFor(
      async () => {
        const c = await email.getJobCounts('failed');
        expect(c.failed ?? 0).toBeGreaterThanOrEqual(1);
        return c;
      },
      { timeout: 20_000, interval: 50 },
    ); // out of attempts
    expect(smtp.received).toHaveLength(0);

    smtpDown = false;
    await runCleanup(); // revives failed jobs of the last day
    await vi.waitFor(
      async () => {
        const n = smtp.received.length;
        expect(n).toBeGreaterThanOrEqual(4);
        return n;
      },
      { timeout: 20_000, interval: 50 },
    );
    await pipelineSettled(t.app.background!.jobs); // every job that could mail again has finished
    expect(smtp.received.flatMap((m) => m.to).sort()).toEqual([...new Set(smtp.received.flatMap((m) => m.to))].sort());
    expect(smtp.received).toHaveLength(4);
  });

  it('never mails a row twice when two email runs race for the same batch', async () => {
    smtpDown = false;
    const course = await t.make.course(instructor.id);
    await enrollStudents(db(), course.id, 30);
    const before = smtp.received.length;
    const lesson = await t.make.lesson(course.id);
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });
    await vi.waitFor(
      async () => {
        const x = await notificationTally(db(), 'LESSON_CANCELLED', course.id);
        expect(x.total).toBe(30);
        return x;
      },
      { timeout: 20_000, interval: 50 },
    );
    const [{ eventId }] = (await db()
      .select({ eventId: notifications.eventId })
      .from(notifications)
      .where(eq(notifications.courseId, course.id))
      .limit(1)) as [{ eventId: string }];
    // Two extra runs over the whole range, at once, on top of the pipeline's own.
    await t.app.background!.jobs.add([
      {
        name: 'notifications.email',
        data: { eventId, range: { from: null, to: null } },
        opts: { jobId: `race-a-${eventId}` },
      },
      {
        name: 'notifications.email',
        data: { eventId, range: { from: null, to: null } },
        opts: { jobId: `race-b-${eventId}` },
      },
    ]);
    await vi.waitFor(
      async () => {
        const n = smtp.received.length - before;
        expect(n).toBeGreaterThanOrEqual(30);
        return n;
      },
      { timeout: 20_000, interval: 50 },
    );
    await pipelineSettled(t.app.background!.jobs); // both racing runs and the pipeline's own are done
    const mine = smtp.received.slice(before).flatMap((m) => m.to);
    expect(mine).toHaveLength(30);
    expect(new Set(mine).size).toBe(30);
  });

  it('queues again an event that was relayed but never processed (its job lost)', async () => {
    const course = await t.make.course(instructor.id);
    await enrollStudents(db(), course.id, 3);
    const lesson = await t.make.lesson(course.id);
    // As if the relay had queued it and Redis then lost the job: relayed, never processed.
    const event: LessonDomainEvent = {
      type: 'lesson.started',
      lessonId: lesson.id,
      courseId: course.id,
      scheduledAt: null,
      occurredAt: new Date().toISOString(),
    };
    await db()
      .insert(outbox)
      .values({ type: event.type, payload: event, relayedAt: new Date(Date.now() - 60_000), relayCount: 1 });
    const tally = await vi.waitFor(
      async () => {
        const x = await notificationTally(db(), 'LESSON_STARTED', course.id);
        expect(x.total).toBeGreaterThanOrEqual(3);
        return x;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(tally).toEqual({ total: 3, recipients: 3, maxPerRecipientAndEvent: 1 });
    const [row] = await db()
      .select()
      .from(outbox)
      .where(sql`${outbox.payload}->>'lessonId' = ${lesson.id}`);
    expect(row!.relayCount).toBe(2);
    expect(row!.processedAt).not.toBeNull();
  });

  it('keeps the reminder of a lesson’s current time when its events run out of order', async () => {
    const course = await t.make.course(instructor.id);
    const t1 = new Date(Date.now() + 5 * 3_600_000).toISOString();
    const t2 = new Date(Date.now() + 9 * 3_600_000).toISOString();
    // The lesson went t1 → t2 → t1; the second event is processed first.
    const lesson = await t.make.lesson(course.id, { scheduledAt: new Date(t1) });
    const base = { lessonId: lesson.id, courseId: course.id, occurredAt: new Date().toISOString() };
    const secondMove: LessonDomainEvent = {
      ...base,
      type: 'lesson.rescheduled',
      scheduledAt: t1,
      previousScheduledAt: t2,
    };
    const firstMove: LessonDomainEvent = {
      ...base,
      type: 'lesson.rescheduled',
      scheduledAt: t2,
      previousScheduledAt: t1,
    };
    const jobs = t.app.background!.jobs;
    const q = queue('notifications');
    await jobs.add([
      {
        name: 'notifications.event',
        data: { eventId: crypto.randomUUID(), event: secondMove },
        opts: { jobId: `second-${lesson.id}` },
      },
    ]);
    await vi.waitFor(
      async () => {
        const value = await q.getJob(`second-${lesson.id}`).then((j) => j?.finishedOn ?? null);
        expect(Boolean(value), JSON.stringify(value)).toBe(true);
        return value;
      },
      { timeout: 20_000, interval: 50 },
    );
    await jobs.add([
      {
        name: 'notifications.event',
        data: { eventId: crypto.randomUUID(), event: firstMove },
        opts: { jobId: `first-${lesson.id}` },
      },
    ]);
    await vi.waitFor(
      async () => {
        const value = await q.getJob(`first-${lesson.id}`).then((j) => j?.finishedOn ?? null);
        expect(Boolean(value), JSON.stringify(value)).toBe(true);
        return value;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(await q.getJobState(reminderJobId(lesson.id, t1))).toBe('delayed');
    expect(await q.getJob(reminderJobId(lesson.id, t2))).toBeUndefined();
  });
});
