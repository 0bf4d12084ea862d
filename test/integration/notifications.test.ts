import { Queue } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authSessions, notifications, outbox, type CourseRow, type UserRow } from '../../src/db/schema.js';
import { uuidOf } from '../../src/graphql/global-id.js';
import { reminderJobId } from '../../src/modules/notifications/index.js';
import { Topics } from '../../src/pubsub/topics.js';
import { createSession } from '../../src/modules/accounts/session.repository.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { enrollStudents, notificationTally, queryRows } from '../helpers/notifications.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { subscriberCounts, testRedisClient } from '../helpers/redis-topology.js';
import { liveClient, subscribe, type LiveClient } from '../helpers/ws-client.js';
import { queuePrefix } from '../../src/queue/index.js';

const ENROLL = `mutation($c: ID!) { enroll(courseId: $c) { id } }`;
const UNENROLL = `mutation($c: ID!) { unenroll(courseId: $c) { id } }`;
const START = `mutation($id: ID!) { startLesson(id: $id) { id } }`;
const COMPLETE = `mutation($id: ID!) { completeLesson(id: $id) { id } }`;
const CANCEL = `mutation($id: ID!, $r: String) { cancelLesson(id: $id, reason: $r) { id } }`;
const RESCHEDULE = `mutation($id: ID!, $at: DateTime!) { rescheduleLesson(id: $id, scheduledAt: $at) { id } }`;
const CREATE_LESSON = `mutation($c: ID!, $t: String!, $at: DateTime) { createLesson(input: { courseId: $c, title: $t, scheduledAt: $at }) { id } }`;
const MY_NOTIFICATIONS = `query($first: Int, $after: String, $unread: Boolean) { me { unreadNotificationCount
  notifications(first: $first, after: $after, unreadOnly: $unread) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id kind title body readAt createdAt course { id title } lesson { id title } } } } } }`;
const MARK_READ = `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`;

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

describe('notifications', () => {
  let t: TestApp;
  let instructor: UserRow, student: UserRow, other: UserRow, admin: UserRow;
  let instructorToken: string, studentToken: string, otherToken: string, adminToken: string;
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      NOTIFICATION_WORKER: 'on',
      NOTIFICATION_BATCH_SIZE: '500',
      REMINDER_LEAD_MINUTES: '1',
      OUTBOX_POLL_MS: '200',
    });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    student = await t.make.user();
    other = await t.make.user();
    admin = await t.make.user({ role: 'ADMIN' });
    instructorToken = await t.tokenFor(instructor);
    studentToken = await t.tokenFor(student);
    otherToken = await t.tokenFor(other);
    adminToken = await t.tokenFor(admin);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t?.close();
  });

  const db = () => t.app.database.db;
  const notificationsOf = (userId: string) =>
    db().select().from(notifications).where(eq(notifications.recipientId, userId)).orderBy(notifications.createdAt);
  const outboxFor = (lessonId: string) =>
    queryRows<{ type: string; payload: any; relayed_at: Date | null }>(
      db(),
      sql`select type, payload, relayed_at from outbox where payload->>'lessonId' = ${lessonId} order by seq`,
    );
  const courseWith = async (...students: UserRow[]): Promise<CourseRow> => {
    const course = await t.make.course(instructor.id);
    for (const s of students) await t.make.enrollment(s.id, course.id);
    return course;
  };
  const queue = (name: string) =>
    new Queue(name, {
      connection: testRedisClient({ maxRetriesPerRequest: null }),
      prefix: queuePrefix(t.redisPrefix),
    });

  describe('transactional outbox', () => {
    it('writes one event with the change, and none when the change is refused', async () => {
      const course = await courseWith(student);
      const lesson = await t.make.lesson(course.id);
      expect((await t.gql(START, { id: gid('Lesson', lesson.id) }, { token: instructorToken })).errors).toBeUndefined();
      const refused = await t.gql(START, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
      expect(codesOf(refused)).toEqual(['CONFLICT']);
      const rows = await outboxFor(lesson.id);
      expect(rows.map((r) => r.type)).toEqual(['lesson.started']);
      expect(rows[0]!.payload).toMatchObject({ lessonId: lesson.id, courseId: course.id });
    });

    it('records a new lesson only once it has a time', async () => {
      const course = await courseWith(student);
      const untimed = await t.gql(
        CREATE_LESSON,
        { c: gid('Course', course.id), t: 'No time yet' },
        { token: instructorToken },
      );
      const timed = await t.gql(
        CREATE_LESSON,
        { c: gid('Course', course.id), t: 'Timed', at: inHours(5) },
        { token: instructorToken },
      );
      expect(await outboxFor(uuidOf('Lesson', untimed.data.createLesson.id)!)).toEqual([]);
      expect((await outboxFor(uuidOf('Lesson', timed.data.createLesson.id)!)).map((r) => r.type)).toEqual([
        'lesson.scheduled',
      ]);
    });

    it('relays committed events to the queue and stamps them', async () => {
      const course = await courseWith(student);
      const lesson = await t.make.lesson(course.id);
      await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
      const [row] = await vi.waitFor(
        async () => {
          const rows = await outboxFor(lesson.id);
          expect(rows[0]?.relayed_at != null, JSON.stringify(rows)).toBe(true);
          return rows;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(Date.parse(String(row!.relayed_at))).toBeGreaterThan(Date.now() - 60_000);
    });
  });

  describe('who is notified of what', () => {
    it('confirms an enrollment to the student alone', async () => {
      const course = await courseWith();
      const s = await t.make.user();
      expect(
        (await t.gql(ENROLL, { c: gid('Course', course.id) }, { token: await t.tokenFor(s) })).errors,
      ).toBeUndefined();
      const [n] = await vi.waitFor(
        async () => {
          const rows = await notificationsOf(s.id);
          expect(rows.length).toBeGreaterThan(0);
          return rows;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(n).toMatchObject({
        kind: 'ENROLLMENT_CONFIRMED',
        courseId: course.id,
        title: `You're enrolled in ${course.title}`,
      });
      expect(await notificationsOf(instructor.id)).toEqual([]);
    });

    it('tells every actively enrolled student of a cancellation, with the reason, and nobody else', async () => {
      const leaver = await t.make.user();
      const stayer = await t.make.user();
      const course = await courseWith(stayer, leaver);
      await t.gql(UNENROLL, { c: gid('Course', course.id) }, { token: await t.tokenFor(leaver) });
      const lesson = await t.make.lesson(course.id, { title: 'Graph theory' });
      await t.gql(CANCEL, { id: gid('Lesson', lesson.id), r: 'Instructor is ill' }, { token: instructorToken });
      const [n] = await vi.waitFor(
        async () => {
          const rows = await notificationsOf(stayer.id);
          expect(rows.length).toBeGreaterThan(0);
          return rows;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(n).toMatchObject({ kind: 'LESSON_CANCELLED', lessonId: lesson.id, courseId: course.id });
      expect(n!.body).toContain('Graph theory');
      expect(n!.body).toContain(course.title);
      expect(n!.body).toContain('Reason: Instructor is ill');
      // The events that came after it are done, so the others' absence is not a race.
      expect(await notificationsOf(leaver.id)).toEqual([]);
      expect((await notificationsOf(instructor.id)).length).toBe(0);
    });

    it('announces starts and completions', async () => {
      const s = await t.make.user();
      const course = await courseWith(s);
      const lesson = await t.make.lesson(course.id);
      await t.gql(START, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
      await t.gql(COMPLETE, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
      const rows = await vi.waitFor(
        async () => {
          const r = await notificationsOf(s.id);
          expect(r.length).toBeGreaterThanOrEqual(2);
          return r;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(rows.map((r) => r.kind).sort()).toEqual(['LESSON_COMPLETED', 'LESSON_STARTED']);
    });

    it('says "scheduled" for a first time and "rescheduled" with both times for a move', async () => {
      const s = await t.make.user();
      const course = await courseWith(s);
      const lesson = await t.make.lesson(course.id, { scheduledAt: null });
      const first = new Date(Date.now() + 86_400_000);
      first.setUTCHours(9, 0, 0, 0);
      const second = new Date(first.getTime() + 2 * 86_400_000);
      await t.gql(RESCHEDULE, { id: gid('Lesson', lesson.id), at: first.toISOString() }, { token: instructorToken });
      await vi.waitFor(
        async () => {
          const r = await notificationsOf(s.id);
          expect(r.length).toBe(1);
          return r;
        },
        { timeout: 20_000, interval: 50 },
      );
      await t.gql(RESCHEDULE, { id: gid('Lesson', lesson.id), at: second.toISOString() }, { token: instructorToken });
      const rows = await vi.waitFor(
        async () => {
          const r = await notificationsOf(s.id);
          expect(r.length).toBe(2);
          return r;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(rows.map((r) => r.kind)).toEqual(['LESSON_SCHEDULED', 'LESSON_RESCHEDULED']);
      expect(rows[1]!.body).toContain('09:00 UTC');
      expect(rows[1]!.body).toMatch(/moved from .+ to .+/);
    });

    it('fans a big course out in batches of 500, one notification per student', async () => {
      const course = await courseWith();
      await enrollStudents(db(), course.id, 1_234);
      const lesson = await t.make.lesson(course.id);
      await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
      const tally = await vi.waitFor(
        async () => {
          const x = await notificationTally(db(), 'LESSON_CANCELLED', course.id);
          expect(x.total).toBeGreaterThanOrEqual(1_234);
          return x;
        },
        { timeout: 30_000, interval: 50 },
      );
      expect(tally).toEqual({ total: 1_234, recipients: 1_234, maxPerRecipientAndEvent: 1 });
      const [event] = await outboxFor(lesson.id);
      const q = queue('notifications');
      try {
        const eventId = (
          await queryRows<{ id: string }>(db(), sql`select id from outbox where payload->>'lessonId' = ${lesson.id}`)
        )[0]!.id;
        const batches = (await q.getJobs(['completed', 'active', 'waiting'])).filter(
          (j) => j.name === 'notifications.batch' && j.data.eventId === eventId,
        );
        expect(batches).toHaveLength(3);
        expect(event).toBeDefined();
      } finally {
        await q.close();
      }
    });
  });

  describe('exactly once', () => {
    it('adds nothing when a job is forced to run again, or an event is relayed again', async () => {
      const s1 = await t.make.user();
      const s2 = await t.make.user();
      const course = await courseWith(s1, s2);
      const lesson = await t.make.lesson(course.id);
      await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
      await vi.waitFor(
        async () => {
          const x = await notificationTally(db(), 'LESSON_CANCELLED', course.id);
          expect(x.total).toBe(2);
          return x;
        },
        { timeout: 20_000, interval: 50 },
      );
      const [row] = await queryRows<{ id: string; payload: any }>(
        db(),
        sql`select id, payload from outbox where payload->>'lessonId' = ${lesson.id}`,
      );
      // The same event under a new job id runs the whole pipeline again...
      await t.app.background!.jobs.add([
        {
          name: 'notifications.event',
          data: { eventId: row!.id, event: row!.payload },
          opts: { jobId: `forced-${row!.id}` },
        },
      ]);
      // ...and the relay hands the same outbox row over again.
      await db().update(outbox).set({ relayedAt: null }).where(eq(outbox.id, row!.id));
      t.app.background!.work.relay.wake();
      await vi.waitFor(
        async () => {
          const rows = await outboxFor(lesson.id);
          expect(rows[0]?.relayed_at != null, JSON.stringify(rows)).toBe(true);
          return rows;
        },
        { timeout: 20_000, interval: 50 },
      );
      const q = queue('notifications');
      try {
        await vi.waitFor(
          async () => {
            const value = await q.getJob(`forced-${row!.id}`).then((j) => j?.finishedOn != null);
            expect(Boolean(value), JSON.stringify(value)).toBe(true);
            return value;
          },
          { timeout: 20_000, interval: 50 },
        );
        // The forced run's batch jobs have the same ids as the first run's: nothing new was queued.
        await vi.waitFor(
          async () => {
            const c = await q.getJobCounts('waiting', 'active');
            expect(c.waiting === 0 && c.active === 0, JSON.stringify(c)).toBe(true);
            return c;
          },
          { timeout: 20_000, interval: 50 },
        );
      } finally {
        await q.close();
      }
      expect(await notificationTally(db(), 'LESSON_CANCELLED', course.id)).toEqual({
        total: 2,
        recipients: 2,
        maxPerRecipientAndEvent: 1,
      });
    });
  });

  describe('reading them over GraphQL', () => {
    let reader: UserRow, readerToken: string, course: CourseRow;
    beforeAll(async () => {
      reader = await t.make.user();
      readerToken = await t.tokenFor(reader);
      course = await courseWith(reader);
      for (let i = 0; i < 5; i++) {
        const lesson = await t.make.lesson(course.id, { title: `Lesson ${i}` });
        await t.gql(CANCEL, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
      }
      await vi.waitFor(
        async () => {
          const r = await notificationsOf(reader.id);
          expect(r.length).toBe(5);
          return r;
        },
        { timeout: 20_000, interval: 50 },
      );
    });

    it('pages newest first with a total and an unread count', async () => {
      const page1 = (await t.gql(MY_NOTIFICATIONS, { first: 2 }, { token: readerToken })).data.me;
      expect(page1.unreadNotificationCount).toBe(5);
      expect(page1.notifications.totalCount).toBe(5);
      expect(page1.notifications.pageInfo.hasNextPage).toBe(true);
      const page2 = (
        await t.gql(
          MY_NOTIFICATIONS,
          { first: 10, after: page1.notifications.pageInfo.endCursor },
          { token: readerToken },
        )
      ).data.me;
      const all = [...page1.notifications.edges, ...page2.notifications.edges].map((e: any) => e.node);
      expect(all).toHaveLength(5);
      expect(new Set(all.map((n: any) => n.id)).size).toBe(5);
      const times = all.map((n: any) => Date.parse(n.createdAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(all[0]).toMatchObject({ kind: 'LESSON_CANCELLED', readAt: null, course: { title: course.title } });
      expect(all[0].lesson.title).toMatch(/^Lesson \d$/);
    });

    it('marks only the viewer’s own notifications read, and says how many changed', async () => {
      // Someone else's notification, made here so the cross-user check never depends on what
      // earlier tests left behind.
      const stranger = await t.make.user();
      const strangersLesson = await t.make.lesson((await courseWith(stranger)).id);
      await t.gql(CANCEL, { id: gid('Lesson', strangersLesson.id) }, { token: instructorToken });
      const [theirs] = await vi.waitFor(
        async () => {
          const r = await notificationsOf(stranger.id);
          expect(r.length).toBe(1);
          return r;
        },
        { timeout: 20_000, interval: 50 },
      );
      const mine = (
        await t.gql(MY_NOTIFICATIONS, { first: 2 }, { token: readerToken })
      ).data.me.notifications.edges.map((e: any) => e.node.id);
      const res = await t.gql(
        MARK_READ,
        { ids: [...mine, gid('Notification', theirs!.id), mine[0]] },
        { token: readerToken },
      );
      expect(res.data.markNotificationsRead).toBe(2);
      expect((await t.gql(MARK_READ, { ids: mine }, { token: readerToken })).data.markNotificationsRead).toBe(0);
      expect((await notificationsOf(stranger.id))[0]!.readAt).toBeNull();
      const after = (await t.gql(MY_NOTIFICATIONS, { first: 10, unread: true }, { token: readerToken })).data.me;
      expect(after.unreadNotificationCount).toBe(3);
      expect(after.notifications.totalCount).toBe(3);
      expect(after.notifications.edges.every((e: any) => e.node.readAt === null)).toBe(true);
    });

    it('rejects malformed IDs by position, and anonymous callers', async () => {
      const bad = await t.gql(MARK_READ, { ids: [gid('Course', course.id)] }, { token: readerToken });
      expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify(bad.errors)).toContain('ids[0]');
      expect(codesOf(await t.gql(MARK_READ, { ids: [] }))).toEqual(['UNAUTHENTICATED']);
    });

    it('keeps them from everyone else, admins included', async () => {
      const q = `query($id: ID!) { user(id: $id) { notifications(first: 5) { totalCount } unreadNotificationCount } }`;
      // The course's instructor and admins can see the user, but not their notifications.
      for (const token of [adminToken, instructorToken]) {
        const res = await t.gql(q, { id: gid('User', reader.id) }, { token });
        expect(res.data.user).toEqual({ notifications: null, unreadNotificationCount: null });
        expect(codesOf(res)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      }
      // Another student cannot even see the user.
      expect((await t.gql(q, { id: gid('User', reader.id) }, { token: otherToken })).data.user).toBeNull();
      const [own] = await notificationsOf(reader.id);
      const node = `query($id: ID!) { node(id: $id) { id ... on Notification { title } } }`;
      expect((await t.gql(node, { id: gid('Notification', own!.id) }, { token: readerToken })).data.node.title).toBe(
        own!.title,
      );
      expect((await t.gql(node, { id: gid('Notification', own!.id) }, { token: adminToken })).data.node).toBeNull();
    });
  });

  describe('live', () => {
    it('pushes a new notification to its recipient’s socket, and to nobody else', async () => {
      const s = await t.make.user();
      const course = await courseWith(s, other);
      const mine = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(s)}` });
      const theirs = liveClient(t.url, { authorization: `Bearer ${otherToken}` });
      clients.push(mine, theirs);
      const q = `subscription { notificationAdded { id kind title course { id } lesson { title } } }`;
      const subMine = subscribe(mine, q);
      const subTheirs = subscribe(theirs, q);
      await Promise.all([mine.connected, theirs.connected]);
      // graphql-ws has no "subscribed" acknowledgement: wait until the server's Redis
      // subscriptions to both users' topics are in place.
      const channels = [s.id, other.id].map((id) => `${t.redisPrefix}${Topics.userNotifications(id)}`);
      await vi.waitFor(
        async () => {
          const counts = await subscriberCounts(channels);
          expect(
            counts.every((n) => n >= 1),
            JSON.stringify(counts),
          ).toBe(true);
          return counts;
        },
        { timeout: 20_000, interval: 50 },
      );
      const lesson = await t.make.lesson(course.id, { title: 'Live one' });
      await t.gql(START, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
      const got = (await subMine.next(10_000)).data.notificationAdded;
      expect(got).toMatchObject({
        kind: 'LESSON_STARTED',
        course: { id: gid('Course', course.id) },
        lesson: { title: 'Live one' },
      });
      const row = (await notificationsOf(s.id)).find((n) => n.lessonId === lesson.id)!;
      expect(got.id).toBe(gid('Notification', row.id));
      // `other` is enrolled too, so receives its own copy — never s's.
      const theirsGot = (await subTheirs.next(10_000)).data.notificationAdded;
      expect(theirsGot.id).not.toBe(got.id);
      expect(await subMine.quiet(300)).toBe(true);
    });

    it('refuses anonymous subscribers', async () => {
      const anon = liveClient(t.url);
      clients.push(anon);
      const sub = subscribe(anon, `subscription { notificationAdded { id } }`);
      const first = await sub.next(5_000).catch(() => undefined);
      const outcome = first ?? (await sub.ended);
      expect(JSON.stringify(outcome)).toContain('UNAUTHENTICATED');
    });
  });

  describe('reminders', () => {
    it('reminds enrolled students shortly before a lesson starts', async () => {
      const s = await t.make.user();
      const course = await courseWith(s);
      // Lead time is 1 minute here: a lesson 61 s away is reminded about in about a second.
      const at = new Date(Date.now() + 61_000).toISOString();
      await t.gql(CREATE_LESSON, { c: gid('Course', course.id), t: 'Soon', at }, { token: instructorToken });
      const rows = await vi.waitFor(
        async () => {
          const r = await notificationsOf(s.id);
          expect(
            r.some((n) => n.kind === 'LESSON_REMINDER'),
            JSON.stringify(r),
          ).toBe(true);
          return r;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(rows.find((n) => n.kind === 'LESSON_REMINDER')!.title).toBe('Starting soon: Soon');
    });

    it('moves the reminder when the lesson is rescheduled and drops it when cancelled', async () => {
      const course = await courseWith(student);
      const first = inHours(3);
      const created = await t.gql(
        CREATE_LESSON,
        { c: gid('Course', course.id), t: 'Later', at: first },
        { token: instructorToken },
      );
      const id = created.data.createLesson.id;
      const lessonId = uuidOf('Lesson', id)!;
      const q = queue('notifications');
      try {
        const firstJob = reminderJobId(lessonId, first);
        await vi.waitFor(
          async () => {
            const j = await q.getJob(firstJob);
            expect(j !== undefined, JSON.stringify(j)).toBe(true);
            return j;
          },
          { timeout: 20_000, interval: 50 },
        );
        expect(await q.getJobState(firstJob)).toBe('delayed');
        const second = new Date(Date.parse(first) + 3_600_000).toISOString();
        await t.gql(RESCHEDULE, { id, at: second }, { token: instructorToken });
        const secondJob = reminderJobId(lessonId, second);
        await vi.waitFor(
          async () => {
            const j = await q.getJob(secondJob);
            expect(j !== undefined, JSON.stringify(j)).toBe(true);
            return j;
          },
          { timeout: 20_000, interval: 50 },
        );
        expect(await q.getJob(firstJob)).toBeUndefined();
        const delay = (await q.getJob(secondJob))!.opts.delay!;
        expect(Math.abs(Date.now() + delay - (Date.parse(second) - 60_000))).toBeLessThan(10_000);
        await t.gql(CANCEL, { id }, { token: instructorToken });
        await vi.waitFor(
          async () => {
            const j = await q.getJob(secondJob);
            expect(j).toBe(undefined);
            return j;
          },
          { timeout: 20_000, interval: 50 },
        );
      } finally {
        await q.close();
      }
    });
  });

  describe('scheduled jobs', () => {
    it('keeps one scheduler per job however many workers declare it', async () => {
      // A second process on the same database and Redis: two workers.
      const second = await startTestApp({
        NOTIFICATION_WORKER: 'on',
        REDIS_KEY_PREFIX: t.redisPrefix,
        DATABASE_URL: t.databaseUrl,
      });
      const q = queue('maintenance');
      try {
        const schedulers = await q.getJobSchedulers();
        expect(schedulers.map((s) => s.key ?? s.id).sort()).toEqual(['activity-report', 'cleanup']);
      } finally {
        await q.close();
        await second.app.close();
      }
    });

    it('records the daily activity report, readable by admins only', async () => {
      await t.app.background!.jobs.add([
        { name: 'maintenance.activity-report', data: {}, opts: { jobId: `report-${Date.now()}` } },
      ]);
      const today = new Date().toISOString().slice(0, 10);
      const q = `{ activityReports(last: 3) { day stats { users activeEnrollments lessons { status count } } } }`;
      const res = await vi.waitFor(
        async () => {
          const r = await t.gql(q, {}, { token: adminToken });
          expect(r.data?.activityReports?.length).toBeGreaterThan(0);
          return r;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(res.data.activityReports[0].day).toBe(today);
      const live = (
        await t.gql(
          `{ platformStats { users activeEnrollments notificationsLast24h courses { status count } } }`,
          {},
          { token: adminToken },
        )
      ).data.platformStats;
      expect(live.users).toBe(res.data.activityReports[0].stats.users);
      expect(live.notificationsLast24h).toBeGreaterThan(0);
      expect(codesOf(await t.gql(q, {}, { token: studentToken }))).toEqual(['FORBIDDEN']);
      expect(codesOf(await t.gql(`{ platformStats { users } }`, {}, { token: studentToken }))).toEqual(['FORBIDDEN']);
    });

    it('cleans up old read notifications and expired sessions, and keeps the rest', async () => {
      const u = await t.make.user();
      const course = await courseWith();
      const base = { recipientId: u.id, kind: 'LESSON_STARTED' as const, title: 't', body: 'b', courseId: course.id };
      const longAgo = new Date(Date.now() - 200 * 86_400_000);
      const [oldRead, oldUnread, recentRead] = await db()
        .insert(notifications)
        .values([
          { ...base, eventId: crypto.randomUUID(), readAt: longAgo, createdAt: longAgo },
          { ...base, eventId: crypto.randomUUID(), createdAt: longAgo },
          { ...base, eventId: crypto.randomUUID(), readAt: new Date() },
        ])
        .returning();
      const { session } = await createSession(db(), u.id, 1, 'test');
      await db().update(authSessions).set({ expiresAt: longAgo }).where(eq(authSessions.id, session.id));
      await t.app.background!.jobs.add([
        { name: 'maintenance.cleanup', data: {}, opts: { jobId: `cleanup-${Date.now()}` } },
      ]);
      const left = await vi.waitFor(
        async () => {
          const rows = await notificationsOf(u.id);
          expect(rows.length).toBe(2);
          return rows;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(left.map((n) => n.id).sort()).toEqual([oldUnread!.id, recentRead!.id].sort());
      expect(left.some((n) => n.id === oldRead!.id)).toBe(false);
      expect(await db().select().from(authSessions).where(eq(authSessions.id, session.id))).toEqual([]);
    });
  });

  it('reports the queue in /ready', async () => {
    const res = await fetch(new URL('/ready', t.url));
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok', queue: 'ok' } });
  });
});
