import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { courses, type CourseRow, type LessonRow, type UserRow } from '../../src/db/schema.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { spawnApi, type RunningApi } from '../helpers/spawn-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe, type LiveClient, type Subscription } from '../helpers/ws-client.js';

const STATS = `subscription($c: ID!) { courseStatsChanged(courseId: $c) {
  activeEnrollments averageProgressPercent studentsCompleted lessonsByStatus { status count } generatedAt } }`;
const ENROLL = `mutation($c: ID!) { enroll(courseId: $c) { id } }`;
const MARK = `mutation($l: ID!) { markLessonCompleted(lessonId: $l) { id } }`;

interface Stats {
  activeEnrollments: number;
  averageProgressPercent: number;
  studentsCompleted: number;
  lessonsByStatus: Array<{ status: string; count: number }>;
}

describe('courseStatsChanged', () => {
  let t: TestApp;
  let b: RunningApi;
  let owner: UserRow, admin: UserRow, otherInstructor: UserRow;
  let ownerToken: string;
  const sockets: LiveClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    b = await spawnApi({
      DATABASE_URL: t.databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: t.redisPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      SEED_DEMO_DATA: 'false',
      NOTIFICATION_WORKER: 'off',
      COST_BUDGET_PER_MINUTE: '100000000',
    });
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    admin = await t.make.user({ role: 'ADMIN' });
    otherInstructor = await t.make.user({ role: 'INSTRUCTOR' });
    ownerToken = await t.tokenFor(owner);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await b?.stop();
    await t?.close();
  });

  const connect = async (user: UserRow | null, url = t.url) => {
    const socket = liveClient(url, user ? { authorization: `Bearer ${await t.tokenFor(user)}` } : undefined);
    sockets.push(socket);
    await socket.connected;
    return socket;
  };
  const setup = async (): Promise<{ course: CourseRow; lessons: LessonRow[] }> => {
    const course = await t.make.course(owner.id);
    const lessons = [await t.make.lesson(course.id, { position: 0 }), await t.make.lesson(course.id, { position: 1 })];
    return { course, lessons };
  };
  const enrollNew = async (course: CourseRow) => {
    const s = await t.make.user();
    const token = await t.tokenFor(s);
    expect((await t.gql(ENROLL, { c: gid('Course', course.id) }, { token })).errors).toBeUndefined();
    return token;
  };
  const nextStats = async (sub: Subscription): Promise<Stats> => {
    const r = await sub.next(10_000);
    expect(r.errors).toBeUndefined();
    return r.data.courseStatsChanged;
  };
  /** Messages until one satisfies `done` (coalescing may fold several changes into one). */
  const until = async (sub: Subscription, done: (s: Stats) => boolean): Promise<{ last: Stats; messages: number }> => {
    for (let messages = 1; ; messages++) {
      const s = await nextStats(sub);
      if (done(s)) return { last: s, messages };
    }
  };

  it('sends the statistics as they are first, then after enrollments, completion marks and lesson changes', async () => {
    const { course, lessons } = await setup();
    const sub = subscribe(await connect(owner), STATS, { c: gid('Course', course.id) });
    expect(await nextStats(sub)).toMatchObject({
      activeEnrollments: 0,
      averageProgressPercent: 0,
      studentsCompleted: 0,
    });

    const token = await enrollNew(course);
    expect((await until(sub, (s) => s.activeEnrollments === 1)).last.averageProgressPercent).toBe(0);

    await t.gql(MARK, { l: gid('Lesson', lessons[0]!.id) }, { token });
    expect((await until(sub, (s) => s.averageProgressPercent === 50)).last.studentsCompleted).toBe(0);

    // Cancelling the unmarked lesson: the student has now completed every counted lesson.
    await t.gql(
      `mutation($id: ID!) { cancelLesson(id: $id) { id } }`,
      { id: gid('Lesson', lessons[1]!.id) },
      { token: ownerToken },
    );
    const { last } = await until(sub, (s) => s.studentsCompleted === 1);
    expect(last.averageProgressPercent).toBe(100);
    expect(last.lessonsByStatus.find((x) => x.status === 'CANCELLED')!.count).toBe(1);
  });

  it('coalesces a burst of changes to about one message per second', async () => {
    const { course } = await setup();
    const sub = subscribe(await connect(admin), STATS, { c: gid('Course', course.id) });
    await nextStats(sub);
    const started = Date.now();
    for (let i = 0; i < 8; i++) await enrollNew(course);
    const burstMs = Date.now() - started;
    const { messages } = await until(sub, (s) => s.activeEnrollments === 8);
    // 8 changes, but at most one message per started second of the burst, plus the trailing one.
    expect(messages).toBeLessThanOrEqual(Math.ceil(burstMs / 1_000) + 1);
    expect(messages).toBeLessThan(8);
  });

  it('refuses students, other instructors (FORBIDDEN) and anonymous viewers (UNAUTHENTICATED)', async () => {
    const { course } = await setup();
    const student = await t.make.user();
    await t.make.enrollment(student.id, course.id);
    for (const [user, code] of [
      [student, 'FORBIDDEN'],
      [otherInstructor, 'FORBIDDEN'],
      [null, 'UNAUTHENTICATED'],
    ] as const) {
      const sub = subscribe(await connect(user), STATS, { c: gid('Course', course.id) });
      const first = await Promise.race([sub.next(), sub.ended]);
      const errors = (first as any)?.errors ?? first;
      expect((errors as Array<{ extensions?: { code?: string } }>)[0]!.extensions?.code).toBe(code);
    }
  });

  it('re-authorizes every message: a former instructor of the course receives no more and the subscription ends', async () => {
    const { course } = await setup();
    const former = subscribe(await connect(owner), STATS, { c: gid('Course', course.id) });
    const watcher = subscribe(await connect(admin), STATS, { c: gid('Course', course.id) });
    await nextStats(former);
    await nextStats(watcher);
    await t.app.database.db.update(courses).set({ instructorId: otherInstructor.id }).where(eq(courses.id, course.id));
    await enrollNew(course);
    // The admin's message is the sentinel: by then the former owner's was decided.
    await until(watcher, (s) => s.activeEnrollments === 1);
    expect(await former.ended).toBe('complete');
    expect(former.results).toHaveLength(1);
  });

  it('delivers changes made through one API process to a subscriber on another', async () => {
    const { course } = await setup();
    const sub = subscribe(await connect(owner, b.url), STATS, { c: gid('Course', course.id) });
    expect((await nextStats(sub)).activeEnrollments).toBe(0);
    await enrollNew(course); // through the in-test instance
    expect((await until(sub, (s) => s.activeEnrollments === 1)).last.activeEnrollments).toBe(1);
  });
});
