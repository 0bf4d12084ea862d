import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CourseRow, LessonRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe, type LiveClient, type Subscription } from '../helpers/ws-client.js';

/**
 * Subscribers who read the same payload share one execution of each event (ws/audience.ts).
 * In one run: several selection sets (one with the guarded `lesson { content }`, one with the
 * user-private `changedBy { email }`, one with the per-viewer `course { viewerEnrollment }`), students, instructors and admins, some with
 * `courseId: null`. Every subscriber must receive exactly the events it may see, each
 * payload exactly what that viewer reads over HTTP: nothing leaks across audiences.
 */
const QUERIES = {
  plain: `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status lesson { id title } } }`,
  guarded: `subscription($c: ID) { lessonStatusChanged(courseId: $c) { previousStatus status lesson { id content allowedTransitions } } }`,
  private: `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status lesson { id } changedBy { id email } } }`,
  perViewer: `subscription($c: ID) { lessonStatusChanged(courseId: $c) { lesson { id course { id viewerEnrollment { id status } } } } }`,
  // A scalar that depends on the viewer alone (their own completion mark).
  progress: `subscription($c: ID) { lessonStatusChanged(courseId: $c) { lesson { id viewerCompletedAt } } }`,
} as const;
type QueryName = keyof typeof QUERIES;
const CREATE_LESSON = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;
const START = `mutation($id: ID!) { startLesson(id: $id) { id status } }`;
const LESSON = `query($id: ID!) { lesson(id: $id) { id title content allowedTransitions viewerCompletedAt course { id viewerEnrollment { id status } } } }`;
const MARK = `mutation($id: ID!) { markLessonCompleted(lessonId: $id) { id viewerCompletedAt } }`;

describe('live fan-out by audience', () => {
  let t: TestApp;
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ MAX_SUBSCRIPTIONS_PER_USER: '100', MAX_SOCKETS_PER_IP: '0' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t?.close();
  });

  it('gives each subscriber exactly the events and fields its viewer may read', { timeout: 120_000 }, async () => {
    const ann = await t.make.user({ role: 'INSTRUCTOR' });
    const bob = await t.make.user({ role: 'INSTRUCTOR' });
    const admin = await t.make.user({ role: 'ADMIN' });
    const [s1, s2, s3, dropped] = await Promise.all([t.make.user(), t.make.user(), t.make.user(), t.make.user()]);
    const c1 = await t.make.course(ann.id);
    const c2 = await t.make.course(ann.id);
    const c3 = await t.make.course(bob.id);
    await t.make.enrollment(s1!.id, c1.id);
    await t.make.enrollment(s2!.id, c1.id);
    await t.make.enrollment(s2!.id, c2.id);
    await t.make.enrollment(s3!.id, c3.id);
    await t.make.enrollment(dropped!.id, c3.id, { status: 'CANCELLED', cancelledAt: new Date() });
    const owners = new Map([
      [c1.id, ann],
      [c2.id, ann],
      [c3.id, bob],
    ]);
    const follows = new Map<string, CourseRow[]>([
      [ann.id, [c1, c2]],
      [bob.id, [c3]],
      [admin.id, [c1, c2, c3]],
      [s1!.id, [c1]],
      [s2!.id, [c1, c2]],
      [s3!.id, [c3]],
      [dropped!.id, []],
    ]);
    const tokens = new Map<string, string>();
    for (const u of [ann, bob, admin, s1!, s2!, s3!, dropped!]) tokens.set(u.id, await t.tokenFor(u));

    // Every viewer with every selection set, on courseId null and on each course it follows;
    // two sockets per combination so that each audience has more than one member.
    interface Subscriber {
      user: UserRow;
      query: QueryName;
      courses: CourseRow[];
      sub: Subscription;
    }
    const subscribers: Subscriber[] = [];
    for (const user of [ann, bob, admin, s1!, s2!, s3!, dropped!]) {
      const followed = follows.get(user.id)!;
      for (const query of Object.keys(QUERIES) as QueryName[]) {
        for (const scope of [null, ...followed]) {
          for (let copy = 0; copy < 2; copy++) {
            const live = liveClient(t.url, { authorization: `Bearer ${tokens.get(user.id)}` });
            clients.push(live);
            const sub = subscribe(live, QUERIES[query], { c: scope ? gid('Course', scope.id) : null });
            subscribers.push({ user, query, courses: scope ? [scope] : followed, sub });
          }
        }
      }
    }
    // Live once each has heard a creation in one of its courses (the dropped student follows none).
    const listening = subscribers.filter((s) => s.courses.length > 0);
    let n = 0;
    const warmUp = () =>
      Promise.all(
        [c1, c2, c3].map((c) =>
          t.gql(
            CREATE_LESSON,
            { c: gid('Course', c.id), t: `warm-up ${n++}` },
            { token: tokens.get(owners.get(c.id)!.id)! },
          ),
        ),
      );
    const total = () => subscribers.reduce((sum, s) => sum + s.sub.results.length, 0);
    /** Until no subscriber has received anything for `ms`. */
    const settled = async (ms: number) => {
      for (let seen = -1; total() !== seen;) {
        seen = total();
        await Promise.all(subscribers.map((s) => s.sub.quiet(ms)));
      }
    };
    for (let i = 0; i < 30 && listening.some((s) => s.sub.results.length === 0); i++) {
      await warmUp();
      await vi
        .waitFor(
          async () => {
            const value = await listening.every((s) => s.sub.results.length > 0);
            expect(Boolean(value), JSON.stringify(value)).toBe(true);
            return value;
          },
          { timeout: 1_000, interval: 50 },
        )
        .catch(() => false);
    }
    expect(listening.filter((s) => s.sub.results.length === 0)).toEqual([]);
    await settled(300);
    const offset = new Map(subscribers.map((s) => [s, s.sub.results.length]));

    // One start per course, each by its instructor.
    const started = new Map<string, LessonRow>();
    for (const course of [c1, c2, c3]) {
      const lesson = await t.make.lesson(course.id, { content: `notes of ${course.slug}` });
      started.set(course.id, lesson);
      if (course.id === c1.id) {
        // s1 marks c1's lesson completed, s2 (same course, same role and relation) does not.
        const marked = await t.gql(MARK, { id: gid('Lesson', lesson.id) }, { token: tokens.get(s1!.id)! });
        expect(marked.errors).toBeUndefined();
      }
      const res = await t.gql(
        START,
        { id: gid('Lesson', lesson.id) },
        { token: tokens.get(owners.get(course.id)!.id)! },
      );
      expect(res.errors).toBeUndefined();
    }

    // What each viewer reads of each lesson over HTTP, now that every lesson is IN_PROGRESS.
    const overHttp = new Map<string, any>();
    for (const user of [ann, bob, admin, s1!, s2!, s3!]) {
      for (const course of follows.get(user.id)!) {
        const lesson = started.get(course.id)!;
        const res = await t.gql(LESSON, { id: gid('Lesson', lesson.id) }, { token: tokens.get(user.id)! });
        expect(res.errors).toBeUndefined();
        overHttp.set(`${user.id}|${lesson.id}`, res.data.lesson);
      }
    }
    const expected = (user: UserRow, query: QueryName, course: CourseRow) => {
      const lesson = started.get(course.id)!;
      const read = overHttp.get(`${user.id}|${lesson.id}`);
      const owner = owners.get(course.id)!;
      switch (query) {
        case 'plain':
          return {
            data: { lessonStatusChanged: { status: 'IN_PROGRESS', lesson: { id: read.id, title: read.title } } },
          };
        case 'guarded':
          return {
            data: {
              lessonStatusChanged: {
                previousStatus: 'SCHEDULED',
                status: 'IN_PROGRESS',
                lesson: { id: read.id, content: read.content, allowedTransitions: read.allowedTransitions },
              },
            },
          };
        case 'perViewer':
          return { data: { lessonStatusChanged: { lesson: { id: read.id, course: read.course } } } };
        case 'progress':
          return {
            data: { lessonStatusChanged: { lesson: { id: read.id, viewerCompletedAt: read.viewerCompletedAt } } },
          };
        case 'private': {
          const mayReadEmail = user.role === 'ADMIN' || user.id === owner.id;
          return {
            data: {
              lessonStatusChanged: {
                status: 'IN_PROGRESS',
                lesson: { id: read.id },
                changedBy: { id: gid('User', owner.id), email: mayReadEmail ? owner.email : null },
              },
            },
            ...(mayReadEmail
              ? {}
              : {
                  errors: [
                    expect.objectContaining({
                      path: ['lessonStatusChanged', 'changedBy', 'email'],
                      extensions: expect.objectContaining({ code: 'FORBIDDEN' }),
                    }),
                  ],
                }),
          };
        }
      }
    };
    // The viewers' readings differ where they should: the fan-out had several audiences to keep apart.
    expect(overHttp.get(`${ann.id}|${started.get(c1.id)!.id}`).allowedTransitions).not.toEqual(
      overHttp.get(`${s1!.id}|${started.get(c1.id)!.id}`).allowedTransitions,
    );
    expect(overHttp.get(`${s1!.id}|${started.get(c1.id)!.id}`).content).toBe(`notes of ${c1.slug}`);
    expect(overHttp.get(`${s1!.id}|${started.get(c1.id)!.id}`).course.viewerEnrollment.id).not.toEqual(
      overHttp.get(`${s2!.id}|${started.get(c1.id)!.id}`).course.viewerEnrollment.id,
    );

    expect(overHttp.get(`${s1!.id}|${started.get(c1.id)!.id}`).viewerCompletedAt).not.toBeNull();
    expect(overHttp.get(`${s2!.id}|${started.get(c1.id)!.id}`).viewerCompletedAt).toBeNull();

    await vi.waitFor(
      async () => {
        const n = subscribers.filter((s) => s.sub.results.length < offset.get(s)! + s.courses.length).length;
        expect(n).toBe(0);
        return n;
      },
      { timeout: 20_000, interval: 50 },
    );
    await settled(500); // anything extra arrives now
    for (const s of subscribers) {
      const want = s.courses.map((c) => expected(s.user, s.query, c));
      const byLesson = (r: any) => r.data.lessonStatusChanged.lesson.id as string;
      const got = s.sub.results.slice(offset.get(s)).sort((a, b) => byLesson(a).localeCompare(byLesson(b)));
      want.sort((a, b) => byLesson(a).localeCompare(byLesson(b)));
      expect(got, `${s.user.role} ${s.user.id} ${s.query} on ${s.courses.map((c) => c.slug).join(',')}`).toEqual(want);
    }
    // The student whose enrollment was cancelled heard nothing.
    for (const s of subscribers.filter((x) => x.user.id === dropped!.id)) expect(s.sub.results).toEqual([]);
    expect(subscribers.length).toBe(2 * Object.keys(QUERIES).length * (3 + 2 + 4 + 2 + 3 + 2 + 1));
  });
});
