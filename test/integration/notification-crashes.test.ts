import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { createMailer } from '../../src/mail/mailer.js';
import { NotificationProcessors } from '../../src/modules/notifications/index.js';
import type { NotificationEvent } from '../../src/outbox/domain-events.js';
import { OutboxRelay } from '../../src/outbox/outbox.relay.js';
import { outbox, users } from '../../src/db/schema.js';
import { createEventBus } from '../../src/pubsub/event-bus.js';
import { BullJobQueue } from '../../src/queue/bullmq-queue.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { enrollStudents, notificationTally, queryRows, startSmtpSink } from '../helpers/notifications.js';
import { startPrivatePostgres } from '../helpers/private-postgres.js';
import { startPrivateRedis } from '../helpers/services.js';
import { spawnWorker, type RunningApi } from '../helpers/spawn-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { queuePrefix } from '../../src/queue/index.js';
import { createRedis } from '../../src/redis/redis.js';

const CANCEL = `mutation($id: ID!) { cancelLesson(id: $id) { id status } }`;

/** Everything started here is stopped, whatever a test's outcome. */
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function courseWithStudents(t: TestApp, n: number) {
  const instructor = await t.make.user({ role: 'INSTRUCTOR' });
  const course = await t.make.course(instructor.id);
  await enrollStudents(t.app.database.db, course.id, n);
  const lesson = await t.make.lesson(course.id, { title: 'Crash course' });
  return { course, lesson, token: await t.tokenFor(instructor) };
}

async function studentEmails(t: TestApp, courseId: string): Promise<string[]> {
  const rows = await t.app.database.db
    .select({ email: users.email })
    .from(users)
    .where(sql`${users.id} in (select student_id from enrollments where course_id = ${courseId})`);
  return rows.map((r) => r.email).sort();
}

const unmailed = async (t: TestApp, courseId: string) =>
  (
    await queryRows<{ n: number }>(
      t.app.database.db,
      sql`select count(*)::int as n from notifications where course_id = ${courseId} and emailed_at is null`,
    )
  )[0]!.n;

describe('emails through crashes and database errors', () => {
  /**
   * A worker SIGKILLed in the middle of an email job, and a new one started at once: returns
   * how long after the kill every student had their email, and checks nobody got two (beyond
   * the messages in flight at the crash).
   */
  async function mailThroughWorkerCrash(lockEnv: Record<string, string>, students: number) {
    const smtp = await startSmtpSink({ delayMs: 15 });
    cleanups.push(() => smtp.close());
    const t = await startTestApp(); // API only; the workers are separate processes
    cleanups.push(() => t.close());
    const workers: RunningApi[] = [];
    cleanups.push(async () => workers.forEach((w) => w.child.kill('SIGKILL')));
    const startWorker = async () => {
      const w = await spawnWorker({
        DATABASE_URL: t.databaseUrl,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: t.redisPrefix,
        JWT_SECRET: TEST_JWT_SECRET,
        DB_MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'info',
        NODE_ENV: 'test',
        SMTP_URL: smtp.url,
        MAIL_CONCURRENCY: '2',
        OUTBOX_POLL_MS: '200',
        WORKER_METRICS_PORT: '0',
        ...lockEnv,
      });
      workers.push(w);
      return w;
    };
    const { course, lesson, token } = await courseWithStudents(t, students);
    const first = await startWorker();
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });
    await vi.waitFor(
      async () => {
        const n = smtp.received.length;
        expect(n).toBeGreaterThanOrEqual(30);
        return n;
      },
      { timeout: 60_000, interval: 5 },
    );
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    const mailedAtKill = smtp.received.length;
    expect(mailedAtKill).toBeLessThan(students); // really interrupted in the middle

    const second = startWorker();
    // Before: the taken-over job found every unmailed row claimed (for 30 minutes) and
    // completed empty. Now the dead run's leases run out with its job lock.
    await vi.waitFor(
      async () => {
        const n = await unmailed(t, course.id);
        expect(n).toBe(0);
        return n;
      },
      { timeout: 60_000, interval: 100 },
    );
    const recoveredMs = Date.now() - killedAt;
    await second;
    await new Promise((r) => setTimeout(r, 500)); // a duplicate, if any, would land now
    const recipients = smtp.received.flatMap((m) => m.to);
    expect([...new Set(recipients)].sort()).toEqual(await studentEmails(t, course.id));
    // At most the messages in flight at the crash (MAIL_CONCURRENCY) went out twice.
    expect(recipients.length - students).toBeLessThanOrEqual(2);
    console.info(`all ${students} emails sent ${recoveredMs} ms after the kill (${mailedAtKill} sent before it)`);
    return recoveredMs;
  }

  it('mails every student soon after a worker is SIGKILLed mid-mailing: the taken-over job finishes the work', async () => {
    // A dead worker's job is taken over within ~3 s here.
    const recoveredMs = await mailThroughWorkerCrash(
      { JOB_LOCK_DURATION_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000' },
      150,
    );
    expect(recoveredMs).toBeLessThan(30_000);
  }, 120_000);

  it('with the default lock settings, finishes a dead worker’s email job within about 30 s of the crash', async () => {
    // Before: lock 30 s + stalled checks every 30 s (up to a minute and more), and 30-minute claims.
    const recoveredMs = await mailThroughWorkerCrash({}, 200);
    expect(recoveredMs).toBeLessThan(40_000);
  }, 150_000);

  it('mails no one twice when a stamp hits statement_timeout while the other senders keep mailing', async () => {
    const smtp = await startSmtpSink({ delayMs: 100 }); // a slow but healthy mail server
    cleanups.push(() => smtp.close());
    const t = await startTestApp({
      NOTIFICATION_WORKER: 'on',
      SMTP_URL: smtp.url,
      MAIL_CONCURRENCY: '4',
      DB_STATEMENT_TIMEOUT_MS: '1000',
      JOB_BACKOFF_MS: '50',
      OUTBOX_POLL_MS: '200',
    });
    cleanups.push(() => t.close());
    const students = 120;
    const { course, lesson, token } = await courseWithStudents(t, students);
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });

    // Another session row-locks one claimed, not yet mailed row for 2.5 s: its stamp blocks
    // past the statement timeout (1 s) while the other senders carry on.
    const other = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    cleanups.push(() => other.end());
    const lockedId = await vi.waitFor(
      async () => {
        const id = await other.begin(async (tx) => {
          const [row] = await tx<{ id: string }[]>`
            select id from notifications
            where course_id = ${course.id} and email_claimed_until is not null and emailed_at is null
            order by id limit 1 for update skip locked`;
          if (row) await new Promise((r) => setTimeout(r, 2_500));
          return row?.id ?? null;
        });
        expect(id !== null, JSON.stringify(id)).toBe(true);
        return id;
      },
      { timeout: 30_000, interval: 5 },
    );
    expect(lockedId).toBeTruthy();

    const everyone = await studentEmails(t, course.id);
    await vi.waitFor(
      async () => {
        const n = new Set(smtp.received.flatMap((m) => m.to)).size;
        expect(n).toBe(students);
        return n;
      },
      { timeout: 30_000, interval: 100 },
    );
    await new Promise((r) => setTimeout(r, 1_500)); // a retry's duplicates would land now
    const recipients = smtp.received.flatMap((m) => m.to).sort();
    expect(recipients.filter((r, i) => recipients[i - 1] === r)).toEqual([]); // nobody twice
    expect(recipients).toEqual(everyone);
    // And the blocked stamp was retried, not given up: every row is stamped mailed.
    await vi.waitFor(
      async () => {
        const n = await unmailed(t, course.id);
        expect(n).toBe(0);
        return n;
      },
      { timeout: 10_000, interval: 100 },
    );
  }, 60_000);
});

describe('emails through a Postgres outage', () => {
  it('mails everyone, nobody twice, soon after Postgres comes back from an outage mid-mailing', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const smtp = await startSmtpSink({ delayMs: 20 });
    cleanups.push(() => smtp.close());
    const t = await startTestApp({ DATABASE_URL: pg.url, DB_CONNECT_TIMEOUT_S: '2', CACHE_ENABLED: 'false' }); // API only
    cleanups.push(() => t.app.close());
    // The worker is a process of its own, restarted if it exits, as a supervisor would: a
    // Postgres that goes away under load can crash a process through postgres.js
    // (porsager/postgres#1154, #1208), and what a restart leaves must be finished too.
    let stopped = false;
    let restarts = 0;
    let worker: RunningApi | undefined;
    const supervise = async (): Promise<void> => {
      worker = await spawnWorker({
        DATABASE_URL: pg.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: t.redisPrefix,
        JWT_SECRET: TEST_JWT_SECRET,
        DB_MIGRATE_ON_START: 'false',
        DB_CONNECT_TIMEOUT_S: '2',
        LOG_LEVEL: 'info',
        NODE_ENV: 'test',
        SMTP_URL: smtp.url,
        MAIL_CONCURRENCY: '2',
        JOB_LOCK_DURATION_MS: '2000',
        JOB_STALLED_INTERVAL_MS: '1000',
        JOB_BACKOFF_MS: '200',
        OUTBOX_POLL_MS: '200',
        WORKER_METRICS_PORT: '0',
      });
      worker.child.once('exit', () => {
        if (stopped) return;
        restarts++;
        void supervise().catch(() => {});
      });
    };
    cleanups.push(async () => {
      stopped = true;
      worker?.child.kill('SIGKILL');
    });
    await supervise();
    const students = 150;
    const { course, lesson, token } = await courseWithStudents(t, students);
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });
    await vi.waitFor(
      async () => {
        const n = smtp.received.length;
        expect(n).toBeGreaterThanOrEqual(20);
        return n;
      },
      { timeout: 30_000, interval: 5 },
    );
    // Down for 3 s mid-run: stamps, lease renewals and the release of claims all fail.
    pg.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    pg.start();
    const back = Date.now();
    // Before: the claims that could not be released held their rows for 30 minutes.
    await vi.waitFor(
      async () => {
        const n = await unmailed(t, course.id).catch(() => -1);
        expect(n).toBe(0);
        return n;
      },
      { timeout: 45_000, interval: 200 },
    );
    const recoveredMs = Date.now() - back;
    await new Promise((r) => setTimeout(r, 500));
    const recipients = smtp.received.flatMap((m) => m.to).sort();
    expect([...new Set(recipients)]).toEqual(await studentEmails(t, course.id));
    // Nobody twice, unless the worker crashed with messages in flight (at most MAIL_CONCURRENCY each time).
    expect(recipients.length - students).toBeLessThanOrEqual(2 * restarts);
    console.info(
      `all ${students} emails sent ${recoveredMs} ms after Postgres came back (worker restarts: ${restarts})`,
    );
  }, 120_000);
});

describe('in-app notifications when Redis loses its data mid fan-out', () => {
  it('creates every notification although the batch jobs vanished after the event was stamped processed', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const t = await startTestApp({ REDIS_URL: redis.url }); // API only
    cleanups.push(() => t.close());
    const students = 240;
    const { course, lesson, token } = await courseWithStudents(t, students);
    await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token });

    // Play the worker up to the moment of the loss: relay the event, run the event job (which
    // plans the batches, queues their jobs and stamps the outbox row processed)...
    const log = createLogger('silent');
    const config = { ...t.app.config, notifications: { ...t.app.config.notifications, batchSize: 50 } };
    const jobs = new BullJobQueue(
      (name, blocking) => createRedis(config.redis!, config.redis!.target, log, name, { blocking }),
      queuePrefix(t.redisPrefix),
      config.jobs,
      log,
    );
    const bus = createEventBus(config, log);
    cleanups.push(
      () => jobs.close(),
      () => bus.close(),
    );
    const relay = new OutboxRelay(t.app.database, jobs, log, { pollMs: 60_000, requeueAfterMs: 900_000 });
    expect(await relay.relayOnce()).toBe(1);
    const [row] = await t.app.database.db.select().from(outbox).where(eq(outbox.type, 'lesson.cancelled'));
    const processors = new NotificationProcessors({
      db: t.app.database.db,
      jobs,
      bus,
      mailer: createMailer(config.mail, log),
      config,
      log,
    });
    await processors.event({ eventId: row!.id, event: row!.payload as NotificationEvent });
    const [stamped] = await t.app.database.db.select().from(outbox).where(eq(outbox.id, row!.id));
    expect(stamped!.processedAt).not.toBeNull();
    expect((await notificationTally(t.app.database.db, 'LESSON_CANCELLED', course.id)).total).toBe(0);

    // ... then Redis dies and comes back empty, batch jobs and all.
    await redis.stop();
    await redis.start();

    const worker = await spawnWorker({
      DATABASE_URL: t.databaseUrl,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: t.redisPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      DB_MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      OUTBOX_POLL_MS: '200',
      OUTBOX_REQUEUE_AFTER_SECONDS: '1',
      WORKER_METRICS_PORT: '0',
    });
    cleanups.push(async () => worker.child.kill('SIGKILL'));
    const tally = await vi.waitFor(
      async () => {
        const x = await notificationTally(t.app.database.db, 'LESSON_CANCELLED', course.id);
        expect(x.total).toBeGreaterThanOrEqual(students);
        return x;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(tally).toEqual({ total: students, recipients: students, maxPerRecipientAndEvent: 1 });
  }, 90_000);
});
