import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readingAfter } from '../../src/db/replicas/read-route.js';
import { notificationBatches, notifications, type UserRow } from '../../src/db/schema.js';
import { recipientRanges } from '../../src/modules/notifications/notification.repository.js';
import type { LessonDomainEvent } from '../../src/outbox/domain-events.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { startPrimaryWithReplica, type PrimaryWithReplica } from '../helpers/pg-replica.js';
import { freePort } from '../helpers/services.js';
import { spawnWorker, type RunningApi } from '../helpers/spawn-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CANCEL = `mutation($id: ID!) { cancelLesson(id: $id, reason: "ill") { id } }`;
const BATCH_SIZE = 2;

/**
 * The notification fan-out in a real worker process with read replicas: the outbox relay puts
 * the primary's WAL position (taken after the event committed) in the event's job, and the
 * worker reads the recipient ranges from a replica only once it has replayed that position,
 * else from the primary. Replay is paused with pg_wal_replay_pause() to make the replica stale.
 */
describe('jobs queued by a write, with read replicas', () => {
  let pg: PrimaryWithReplica;
  let t: TestApp;
  let worker: RunningApi;
  let metricsPort: number;
  let instructor: UserRow;
  let instructorToken: string;

  beforeAll(async () => {
    pg = await startPrimaryWithReplica();
    const env = {
      DATABASE_URL: pg.primaryUrl,
      DATABASE_REPLICA_URLS: pg.replicaUrl,
      REPLICA_MAX_LAG_SECONDS: '3600',
      REPLICA_HEALTH_CHECK_MS: '200',
      NOTIFICATION_BATCH_SIZE: String(BATCH_SIZE),
    };
    // The API runs no jobs (NOTIFICATION_WORKER=off): the worker process does.
    t = await startTestApp({ ...env, CACHE_ENABLED: 'false' });
    metricsPort = await freePort();
    worker = await spawnWorker({
      ...env,
      // Its replicas' positions are then asked for by the jobs' reads alone: a health check
      // that answered just before a write was replayed cannot leave a stale position cached.
      REPLICA_HEALTH_CHECK_MS: '60000',
      NODE_ENV: 'test',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: t.redisPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      MAIL_TRANSPORT: 'log',
      DB_MIGRATE_ON_START: 'false',
      OUTBOX_POLL_MS: '200',
      WORKER_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info', // its start is read from the log
    });
    await vi.waitFor(() => expect(t.app.database.replicas!.replicas[0]!.state).toBe('ok'), { timeout: 20_000 });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    instructorToken = await t.tokenFor(instructor);
  });
  afterAll(async () => {
    await worker?.stop();
    await t?.close();
    await pg?.destroy();
  });

  /** A counter of the worker process's /metrics (0 before its first increment). */
  const workerMetric = async (name: string, label: string) => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const line = new RegExp(`^${name}\\{${label}\\} (\\S+)$`, 'm').exec(text);
    return Number(line?.[1] ?? 0);
  };
  const replicaReads = () => workerMetric('eduflow_db_reads_total', 'target="replica"');
  const behind = () => workerMetric('eduflow_db_replica_fallbacks_total', 'reason="behind"');

  /** A course with one lesson and `students` enrolled students, all replayed by the replica. */
  const courseWith = async (students: number) => {
    const course = await t.make.course(instructor.id);
    const enrolled: string[] = [];
    for (let i = 0; i < students; i++) {
      const s = await t.make.user();
      await t.make.enrollment(s.id, course.id);
      enrolled.push(s.id);
    }
    const lesson = await t.make.lesson(course.id); // last: once the replica has it, it has them all
    return { course, lesson, enrolled };
  };
  const replayed = (lessonId: string) =>
    vi.waitFor(
      async () => expect(await pg.replicaAdmin`select 1 from lessons where id = ${lessonId}`).toHaveLength(1),
      { timeout: 10_000 },
    );
  const cancel = async (lessonId: string) => {
    const res = await t.gql(CANCEL, { id: gid('Lesson', lessonId) }, { token: instructorToken });
    expect(res.errors).toBeUndefined();
  };
  /** Waits for the event's batches to be done, then returns who was notified and each batch's size. */
  const fanOutOf = async (lessonId: string) => {
    const { db } = t.app.database;
    const eventId = await vi.waitFor(
      async () => {
        const [row] = await db
          .select({ eventId: notifications.eventId })
          .from(notifications)
          .where(eq(notifications.lessonId, lessonId))
          .limit(1);
        expect(row).toBeDefined();
        const batches = await db
          .select()
          .from(notificationBatches)
          .where(eq(notificationBatches.eventId, row!.eventId));
        expect(batches.length).toBeGreaterThan(0);
        expect(batches.every((b) => b.doneAt)).toBe(true);
        return row!.eventId;
      },
      { timeout: 30_000, interval: 100 },
    );
    const recipients = await db
      .select({ id: notifications.recipientId })
      .from(notifications)
      .where(and(eq(notifications.lessonId, lessonId), eq(notifications.eventId, eventId)));
    const batches = await db.select().from(notificationBatches).where(eq(notificationBatches.eventId, eventId));
    const sizes = await Promise.all(
      batches.map(async (b) => {
        const [row] = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(notifications)
          .where(
            and(
              eq(notifications.eventId, eventId),
              b.rangeFrom ? sql`${notifications.recipientId} >= ${b.rangeFrom}::uuid` : undefined,
              b.rangeTo ? sql`${notifications.recipientId} < ${b.rangeTo}::uuid` : undefined,
            ),
          );
        return row!.n;
      }),
    );
    return { recipients: recipients.map((r) => r.id).sort(), sizes };
  };

  it("reads the fan-out's recipient ranges from the replica once it has replayed the write", async () => {
    const { lesson, enrolled } = await courseWith(3);
    await replayed(lesson.id);
    const before = await replicaReads();
    await cancel(lesson.id);
    const { recipients, sizes } = await fanOutOf(lesson.id);
    expect(recipients).toEqual([...enrolled].sort());
    expect(Math.max(...sizes)).toBeLessThanOrEqual(BATCH_SIZE);
    expect(await replicaReads()).toBeGreaterThan(before);
  });

  it('plans a fan-out from the primary while the replica has not replayed the write; the replica would have missed the new students', async () => {
    const { course, lesson } = await courseWith(0);
    await replayed(lesson.id);
    await pg.pauseReplay();
    try {
      // Written while the replica replays nothing: the students and the cancellation.
      const students: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await t.make.user();
        await t.make.enrollment(s.id, course.id);
        students.push(s.id);
      }
      const outsider = await t.make.user(); // enrolled elsewhere: not a recipient
      await t.make.enrollment(outsider.id, (await t.make.course(instructor.id)).id);
      const fellBehind = await behind();
      await cancel(lesson.id);
      const { recipients, sizes } = await fanOutOf(lesson.id);
      expect(recipients).toEqual(students.sort());
      expect(sizes).toHaveLength(Math.ceil(students.length / BATCH_SIZE));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(BATCH_SIZE);
      expect(await behind()).toBeGreaterThan(fellBehind);

      // Negative control: the same read with a position any replica has passed goes to the
      // stale replica, which knows none of these students: one unbounded range.
      const event: LessonDomainEvent = {
        type: 'lesson.cancelled',
        lessonId: lesson.id,
        courseId: course.id,
        scheduledAt: null,
        occurredAt: new Date().toISOString(),
      };
      const stale = await readingAfter('0/0', () => recipientRanges(t.app.database.db, event, BATCH_SIZE));
      expect(stale).toEqual([{ from: null, to: null }]);
    } finally {
      await pg.resumeReplay();
    }
  });
});
