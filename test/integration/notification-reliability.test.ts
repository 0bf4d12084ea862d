import { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { notifications, users } from '../../src/db/schema.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import {
  enrollStudents,
  notificationTally,
  pipelineSettled,
  queryRows,
  startSmtpSink,
} from '../helpers/notifications.js';
import { freePort, startPrivateRedis } from '../helpers/services.js';
import { spawnWorker, type RunningApi } from '../helpers/spawn-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { queuePrefix } from '../../src/queue/index.js';

const CANCEL = `mutation($id: ID!, $r: String) { cancelLesson(id: $id, reason: $r) { id status } }`;

/** Everything started here is stopped, whatever a test's outcome. */
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function courseWithStudents(t: TestApp, n: number) {
  const instructor = await t.make.user({ role: 'INSTRUCTOR' });
  const course = await t.make.course(instructor.id);
  await enrollStudents(t.app.database.db, course.id, n);
  const lesson = await t.make.lesson(course.id, { title: 'Reliability 101' });
  return { instructor, course, lesson, token: await t.tokenFor(instructor) };
}

describe('notification delivery when things fail', () => {
  it('accepts the mutation while Redis is down and delivers once it is back', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const t = await startTestApp({ REDIS_URL: redis.url, NOTIFICATION_WORKER: 'on', OUTBOX_POLL_MS: '200' });
    cleanups.push(() => t.close());
    const { course, lesson, token } = await courseWithStudents(t, 3);

    await redis.stop();
    const started = Date.now();
    const res = await t.gql(CANCEL, { id: gid('Lesson', lesson.id), r: 'Redis is down' }, { token });
    expect(res.errors).toBeUndefined();
    expect(res.data.cancelLesson.status).toBe('CANCELLED');
    expect(Date.now() - started).toBeLessThan(5_000);
    // The event waits in the outbox; nothing is delivered or lost meanwhile. Left a fixed wait:
    // a relay attempt that fails while Redis is down leaves no trace to await.
    await new Promise((r) => setTimeout(r, 1_000));
    const pending = await queryRows<{ n: number }>(
      t.app.database.db,
      sql`select count(*)::int as n from outbox where relayed_at is null`,
    );
    expect(pending[0]!.n).toBe(1);
    expect((await notificationTally(t.app.database.db, 'LESSON_CANCELLED', course.id)).total).toBe(0);

    await redis.start();
    const tally = await vi.waitFor(
      async () => {
        const x = await notificationTally(t.app.database.db, 'LESSON_CANCELLED', course.id);
        expect(x.total).toBeGreaterThanOrEqual(3);
        return x;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(tally).toEqual({ total: 3, recipients: 3, maxPerRecipientAndEvent: 1 });
  });

  it('retries emails through an SMTP outage and sends each recipient exactly one', async () => {
    // The first 5 messages are refused with a temporary error (451), then the server recovers.
    const smtp = await startSmtpSink({ reject: (n) => n <= 5 });
    cleanups.push(() => smtp.close());
    const t = await startTestApp({
      NOTIFICATION_WORKER: 'on',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'EduFlow <noreply@eduflow.test>',
      PUBLIC_APP_URL: 'https://learn.example.test/',
      JOB_BACKOFF_MS: '50',
      MAIL_CONCURRENCY: '2',
      OUTBOX_POLL_MS: '200',
    });
    cleanups.push(() => t.close());
    const { course, lesson, token } = await courseWithStudents(t, 6);
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id), r: 'Flooded room' }, { token });

    await vi.waitFor(
      async () => {
        const n = smtp.received.length;
        expect(n).toBeGreaterThanOrEqual(6);
        return n;
      },
      { timeout: 30_000, interval: 50 },
    );
    await pipelineSettled(t.app.background!.jobs); // any duplicate would have arrived by now
    const students = await t.app.database.db
      .select({ email: users.email })
      .from(users)
      .where(sql`${users.id} in (select student_id from enrollments where course_id = ${course.id})`);
    const recipients = smtp.received.flatMap((m) => m.to).sort();
    expect(recipients).toEqual(students.map((s) => s.email).sort());
    expect(smtp.attempts()).toBeGreaterThan(6); // failures really happened
    // The in-app notifications were not duplicated by the email retries, and all are stamped.
    expect(await notificationTally(t.app.database.db, 'LESSON_CANCELLED', course.id)).toEqual({
      total: 6,
      recipients: 6,
      maxPerRecipientAndEvent: 1,
    });
    const unmailed = await t.app.database.db
      .select()
      .from(notifications)
      .where(sql`${notifications.courseId} = ${course.id} and ${notifications.emailedAt} is null`);
    expect(unmailed).toEqual([]);

    const mail = smtp.received[0]!;
    expect(mail.from).toBe('noreply@eduflow.test');
    expect(mail.raw).toContain('Subject: Cancelled: Reliability 101');
    expect(mail.raw).toContain(`https://learn.example.test/courses/${course.slug}`);
    expect(mail.raw).toContain('Reason: Flooded room');
    expect(mail.raw).toContain('text/html');
  });
});

it('stops mailing on shutdown, with every email sent stamped and the rest left to retry', async () => {
  const smtp = await startSmtpSink({ delayMs: 150 });
  cleanups.push(() => smtp.close());
  const t = await startTestApp({
    NOTIFICATION_WORKER: 'on',
    SMTP_URL: smtp.url,
    MAIL_CONCURRENCY: '1',
    OUTBOX_POLL_MS: '200',
  });
  cleanups.push(() => t.app.close());
  const { course, lesson, token } = await courseWithStudents(t, 40);
  await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });
  await vi.waitFor(
    async () => {
      const n = smtp.received.length;
      expect(n).toBeGreaterThanOrEqual(2);
      return n;
    },
    { timeout: 20_000, interval: 50 },
  );
  const started = Date.now();
  await t.app.close(); // what SIGTERM runs
  expect(Date.now() - started).toBeLessThan(5_000); // it did not wait for all 40 emails
  const sqlc = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sqlc<{ mailed: number; claimed: number }[]>`
      select count(emailed_at)::int as mailed, count(email_claimed_until)::int as claimed
      from notifications where course_id = ${course.id}`;
    expect(row!.mailed).toBe(smtp.received.length); // each mail that went out is stamped
    expect(row!.mailed).toBeLessThan(40);
    expect(row!.claimed).toBe(0); // the rest are free for the next worker
  } finally {
    await sqlc.end(); // the database itself goes with the run's clean-up
  }
});

describe('worker processes', () => {
  let t: TestApp;
  const workers: RunningApi[] = [];
  const workerEnv = () => ({
    DATABASE_URL: t.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: t.redisPrefix,
    JWT_SECRET: TEST_JWT_SECRET,
    DB_MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    // Small batches and one job at a time: the fan-out takes long enough to be interrupted.
    NOTIFICATION_BATCH_SIZE: '10',
    WORKER_CONCURRENCY: '1',
    // A dead worker's job is noticed within ~2 s instead of the default 30 s.
    JOB_LOCK_DURATION_MS: '2000',
    JOB_STALLED_INTERVAL_MS: '1000',
    OUTBOX_POLL_MS: '200',
    WORKER_METRICS_PORT: '0',
  });
  const startWorker = async (env: Record<string, string> = {}) => {
    const w = await spawnWorker({ ...workerEnv(), ...env });
    workers.push(w);
    return w;
  };
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await t?.close();
  });

  it('delivers exactly once to 2,000 students although a worker is SIGKILLed mid fan-out', async () => {
    t = await startTestApp(); // API only; the workers are separate processes
    const { course, lesson, token } = await courseWithStudents(t, 2_000);
    const first = await startWorker();
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });

    const tally = () => notificationTally(t.app.database.db, 'LESSON_CANCELLED', course.id);
    await vi.waitFor(
      async () => {
        const x = await tally();
        expect(x.total).toBeGreaterThanOrEqual(100);
        return x;
      },
      { timeout: 60_000, interval: 5 },
    );
    first.child.kill('SIGKILL');
    const atKill = (await tally()).total;
    expect(atKill).toBeLessThan(2_000); // really interrupted in the middle

    const metricsPort = await freePort();
    await startWorker({ WORKER_METRICS_PORT: String(metricsPort) });
    const done = await vi.waitFor(
      async () => {
        const x = await tally();
        expect(x.total).toBeGreaterThanOrEqual(2_000);
        return x;
      },
      { timeout: 90_000, interval: 50 },
    );
    await new Promise((r) => setTimeout(r, 1_000)); // a duplicate, if any, would land now
    expect(await tally()).toEqual({ total: 2_000, recipients: 2_000, maxPerRecipientAndEvent: 1 });
    expect(done.recipients).toBe(2_000);
    // The replacement worker's own /metrics shows the batches it ran and the queues' depth.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/eduflow_jobs_total\{job="notifications.batch",outcome="completed"\} [1-9]/);
    expect(metrics).toMatch(/eduflow_queue_jobs\{queue="notifications",state="waiting"\} \d+/);
  }, 180_000);

  it('finishes the jobs in hand on SIGTERM and exits cleanly', async () => {
    for (const w of workers.splice(0)) w.child.kill('SIGKILL');
    const { course, lesson, token } = await courseWithStudents(t, 600);
    const worker = await startWorker();
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });
    const tally = () => notificationTally(t.app.database.db, 'LESSON_CANCELLED', course.id);
    await vi.waitFor(
      async () => {
        const x = await tally();
        expect(x.total).toBeGreaterThanOrEqual(50);
        return x;
      },
      { timeout: 60_000, interval: 5 },
    );
    const code = await worker.stop();
    expect(code).toBe(0);
    expect(worker.output()).toContain('worker stopped cleanly');
    // Nothing was left half-done and locked: no job is active after the worker left.
    const q = new Queue('notifications', {
      connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }),
      prefix: queuePrefix(t.redisPrefix),
    });
    try {
      expect((await q.getJobCounts('active')).active).toBe(0);
    } finally {
      await q.close();
    }
    expect((await tally()).total).toBeLessThan(600); // it stopped taking new jobs
    await startWorker(); // the rest is picked up by the next worker
    await vi.waitFor(
      async () => {
        const x = await tally();
        expect(x.total).toBeGreaterThanOrEqual(600);
        return x;
      },
      { timeout: 60_000, interval: 50 },
    );
    expect(await tally()).toEqual({ total: 600, recipients: 600, maxPerRecipientAndEvent: 1 });
  }, 120_000);

  it('runs separately from the API: the API with NOTIFICATION_WORKER=off has no queue', async () => {
    expect(t.app.background).toBeUndefined();
    const res = await fetch(new URL('/ready', t.url));
    expect(((await res.json()) as { checks: object }).checks).not.toHaveProperty('queue');
  });
});
