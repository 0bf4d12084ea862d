import { afterAll, describe, expect, it, vi } from 'vitest';
import { gid } from '../helpers/factories.js';
import { enrollStudents, notificationTally } from '../helpers/notifications.js';
import { startPrivateRedis } from '../helpers/services.js';
import { startTestApp } from '../helpers/test-app.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

describe('the queue Redis restarting empty mid fan-out', () => {
  it('delivers all 5,000 in-app notifications within 10 s of Redis accepting connections, none twice', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    // Default sweep timings (stale after a minute, swept every 30 s): healing must not wait for them.
    const t = await startTestApp({
      REDIS_URL: redis.url,
      NOTIFICATION_WORKER: 'on',
      NOTIFICATION_BATCH_SIZE: '100',
      WORKER_CONCURRENCY: '1',
      OUTBOX_POLL_MS: '200',
    });
    cleanups.push(() => t.close());
    const students = 5_000;
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(instructor.id);
    await enrollStudents(t.app.database.db, course.id, students);
    const lesson = await t.make.lesson(course.id, { title: 'Cancelled mid fan-out' });
    const token = await t.tokenFor(instructor);
    const tally = () => notificationTally(t.app.database.db, 'LESSON_CANCELLED', course.id);

    const cancelled = await t.gql(
      `mutation($id: ID!) { cancelLesson(id: $id) { id } }`,
      { id: gid('Lesson', lesson.id) },
      { token },
    );
    expect(cancelled.errors).toBeUndefined();
    await vi.waitFor(async () => expect((await tally()).total).toBeGreaterThan(0), { timeout: 30_000, interval: 20 });
    await redis.stop();
    const atLoss = (await tally()).total;
    expect(atLoss).toBeLessThan(students); // the loss really was mid fan-out

    await redis.start(); // resolves once it accepts connections
    const back = Date.now();
    await vi.waitFor(async () => expect((await tally()).total).toBe(students), { timeout: 60_000, interval: 100 });
    const healedMs = Date.now() - back;
    expect(healedMs).toBeLessThan(10_000);
    expect(await tally()).toEqual({ total: students, recipients: students, maxPerRecipientAndEvent: 1 });
    console.info(`${atLoss} of ${students} written at the loss; all ${students} ${healedMs} ms after Redis returned`);
  }, 120_000);
});
