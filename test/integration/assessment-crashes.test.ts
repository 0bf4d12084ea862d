import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { queryRows, startSmtpSink } from '../helpers/notifications.js';
import { createQuiz, fourKinds, rightAnswers, SAVE, START } from '../helpers/quizzes.js';
import { spawnApi, spawnWorker, type RunningApi } from '../helpers/spawn-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe } from '../helpers/ws-client.js';

const MARK = `mutation($l: ID!) { markLessonCompleted(lessonId: $l) { id } }`;
const GRADED = `subscription($c: ID!) { quizAttemptGraded(courseId: $c) { id status scorePoints student { id } } }`;

/** Everything started here is stopped, whatever a test's outcome. */
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function workerEnv(t: TestApp, extra: Record<string, string> = {}) {
  return {
    DATABASE_URL: t.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: t.redisPrefix,
    JWT_SECRET: TEST_JWT_SECRET,
    DB_MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'info', // the ready line is logged at info
    NODE_ENV: 'test',
    WORKER_METRICS_PORT: '0',
    // A killed worker's job is taken over within about three seconds.
    JOB_LOCK_DURATION_MS: '2000',
    JOB_STALLED_INTERVAL_MS: '1000',
    ...extra,
  };
}

const count = async (t: TestApp, query: ReturnType<typeof sql>) =>
  ((await queryRows<{ n: number }>(t.app.database.db, query)) as [{ n: number }])[0].n;

describe('certificates across API and worker crashes', () => {
  it('issues exactly one certificate, notification and email when the API dies after the completing mark and a worker is killed mid-issue', async () => {
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.close());
    const t = await startTestApp(); // the database and fixtures; no workers in this process
    cleanups.push(() => t.close());
    const student = await t.make.user({ displayName: 'Grace Hopper' });
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(instructor.id);
    const lesson = await t.make.lesson(course.id);
    await t.make.enrollment(student.id, course.id);

    // The completing mark through a real API process, killed as soon as it answered: the
    // completion and its outbox event were committed with the mark, nothing else is needed.
    const api: RunningApi = await spawnApi({ ...workerEnv(t), NOTIFICATION_WORKER: 'off' });
    cleanups.push(async () => api.child.kill('SIGKILL'));
    const marked = await graphqlClient(api.url)(
      MARK,
      { l: gid('Lesson', lesson.id) },
      { token: await t.tokenFor(student) },
    );
    expect(marked.errors).toBeUndefined();
    api.child.kill('SIGKILL');
    expect(
      await count(
        t,
        sql`select count(*)::int as n from outbox where type = 'course.completed' and payload->>'courseId' = ${course.id}`,
      ),
    ).toBe(1);

    // Another session holds the certificates table: the first worker's issuing transaction
    // blocks on its INSERT, in the middle of issuing, and the worker is killed there.
    const other = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    cleanups.push(() => other.end());
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const holding = other.begin(async (tx) => {
      await tx`lock table certificates in exclusive mode`;
      await released;
    });
    const env = workerEnv(t, { SMTP_URL: smtp.url, OUTBOX_POLL_MS: '200' });
    const first = await spawnWorker(env);
    cleanups.push(async () => first.child.kill('SIGKILL'));
    await vi.waitFor(
      async () =>
        expect(
          await count(
            t,
            sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike 'insert into "certificates"%'`,
          ),
        ).toBe(1),
      { timeout: 30_000, interval: 50 },
    );
    first.child.kill('SIGKILL');
    release();
    await holding;
    expect(await count(t, sql`select count(*)::int as n from certificates where course_id = ${course.id}`)).toBe(0);

    const second = await spawnWorker(env);
    cleanups.push(async () => second.child.kill('SIGKILL'));
    await vi.waitFor(
      async () => {
        expect(smtp.received.filter((m) => m.to.includes(student.email))).toHaveLength(1);
        // Sentinel: every event of the pipeline processed, so a duplicate would exist by now.
        expect(await count(t, sql`select count(*)::int as n from outbox where processed_at is null`)).toBe(0);
      },
      { timeout: 60_000, interval: 200 },
    );
    expect(await count(t, sql`select count(*)::int as n from certificates where course_id = ${course.id}`)).toBe(1);
    expect(await count(t, sql`select count(*)::int as n from outbox where type = 'certificate.issued'`)).toBe(1);
    expect(
      await count(
        t,
        sql`select count(*)::int as n from notifications where kind = 'CERTIFICATE_ISSUED' and recipient_id = ${student.id}`,
      ),
    ).toBe(1);
    expect(smtp.received.filter((m) => m.to.includes(student.email))).toHaveLength(1);
  }, 180_000);
});

describe('attempt deadlines without a live request', () => {
  it('a worker started after the deadline grades the attempt EXPIRED through its delayed job, with what was saved', async () => {
    const t = await startTestApp(); // API without workers: nothing runs at the deadline
    cleanups.push(() => t.close());
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const student = await t.make.user();
    const course = await t.make.course(instructor.id);
    const lesson = await t.make.lesson(course.id);
    await t.make.enrollment(student.id, course.id);
    const quiz = await createQuiz(t, await t.tokenFor(instructor), lesson.id, fourKinds({ timeLimitSeconds: 30 }));
    const token = await t.tokenFor(student);
    const attempt = (await t.gql(START, { q: quiz.id }, { token })).data.startQuizAttempt;
    await t.gql(SAVE, { input: { attemptId: attempt.id, answers: rightAnswers(quiz).slice(0, 2) } }, { token });
    // By the database clock the deadline passed 3 s ago: overdue (past the 5 s grace) in 2 s.
    await t.app.database.db.execute(sql`update quiz_attempts set deadline = now() - interval '3 seconds'`);

    // The sweep runs every 30 s here (OUTBOX_POLL_MS × 5): well after the delayed job.
    const worker = await spawnWorker(workerEnv(t, { OUTBOX_POLL_MS: '6000' }));
    cleanups.push(async () => worker.child.kill('SIGKILL'));
    const readyAt = Date.now();
    const row = await vi.waitFor(
      async () => {
        const [r] = await queryRows<{ status: string; score_points: number; passed: boolean }>(
          t.app.database.db,
          sql`select status, score_points, passed from quiz_attempts`,
        );
        expect(r!.status).toBe('EXPIRED');
        return r!;
      },
      { timeout: 25_000, interval: 100 },
    );
    expect(Date.now() - readyAt).toBeLessThan(25_000);
    expect(row).toMatchObject({ score_points: 2, passed: false });
    expect(
      await count(
        t,
        sql`select count(*)::int as n from outbox where type = 'quiz.attempt-started' and processed_at is null`,
      ),
    ).toBe(0);
  }, 120_000);

  it('the sweep grades an attempt whose job has not fired,, and the instructor hears it live', async () => {
    const t = await startTestApp({ NOTIFICATION_WORKER: 'on', OUTBOX_POLL_MS: '200' }); // sweep every second
    cleanups.push(() => t.close());
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const student = await t.make.user();
    const course = await t.make.course(instructor.id);
    const lesson = await t.make.lesson(course.id);
    await t.make.enrollment(student.id, course.id);
    const quiz = await createQuiz(t, await t.tokenFor(instructor), lesson.id, fourKinds({ timeLimitSeconds: 600 }));
    const socket = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(instructor)}` });
    cleanups.push(() => socket.dispose());
    const sub = subscribe(socket, GRADED, { c: gid('Course', course.id) });
    // Subscribed once an immediately graded attempt arrives (graphql-ws has no acknowledgement).
    const warmup = await t.make.user();
    await t.make.enrollment(warmup.id, course.id);
    const warmToken = await t.tokenFor(warmup);
    const warm = (await t.gql(START, { q: quiz.id }, { token: warmToken })).data.startQuizAttempt;
    await vi.waitFor(
      async () => {
        await t.app.database.db.execute(
          sql`update quiz_attempts set deadline = now() - interval '10 seconds' where id = (select id from quiz_attempts where student_id = ${warmup.id})`,
        );
        expect(sub.results.length).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 500 },
    );
    expect(((await sub.next()) as any).data.quizAttemptGraded).toMatchObject({ id: warm.id, status: 'EXPIRED' });

    const token = await t.tokenFor(student);
    const attempt = (await t.gql(START, { q: quiz.id }, { token })).data.startQuizAttempt;
    // Its delayed job waits ten minutes; the deadline passed 10 s ago by the database clock.
    await t.app.database.db.execute(
      sql`update quiz_attempts set deadline = now() - interval '10 seconds' where id = (select id from quiz_attempts where student_id = ${student.id})`,
    );
    const next = (await sub.next(15_000)) as any;
    expect(next.data.quizAttemptGraded).toMatchObject({
      id: attempt.id,
      status: 'EXPIRED',
      scorePoints: 0,
      student: { id: gid('User', student.id) },
    });
  }, 120_000);
});
