import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lessons, type CourseRow, type UserRow } from '../../src/db/schema.js';
import { uuidOf } from '../../src/graphql/global-id.js';
import { LOGIN, LOGOUT, userWithPassword } from '../helpers/accounts.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe, type LiveClient } from '../helpers/ws-client.js';

const SUB = `subscription($c: ID) { lessonStatusChanged(courseId: $c) {
  previousStatus status changedAt changedBy { id }
  lesson { id title status startedAt completedAt cancelledAt cancellationReason course { id } }
} }`;
const START = `mutation($id: ID!) { startLesson(id: $id) { id status startedAt } }`;
const COMPLETE = `mutation($id: ID!) { completeLesson(id: $id) { id status completedAt } }`;
const CANCEL = `mutation($id: ID!, $r: String) { cancelLesson(id: $id, reason: $r) { id status cancelledAt cancellationReason } }`;
const RESCHEDULE = `mutation($id: ID!, $at: DateTime!) { rescheduleLesson(id: $id, scheduledAt: $at) { id status scheduledAt } }`;
const CREATE_LESSON = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;

describe('lesson lifecycle and live subscriptions', () => {
  let t: TestApp;
  let owner: UserRow, student: UserRow, outsider: UserRow, admin: UserRow;
  let ownerToken: string;
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ WS_CONNECTION_INIT_TIMEOUT_MS: '500', LOGIN_MAX_ATTEMPTS: '1000' });
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    student = await t.make.user();
    outsider = await t.make.user();
    admin = await t.make.user({ role: 'ADMIN' });
    ownerToken = await t.tokenFor(owner);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t?.close();
  });

  const connect = async (user?: UserRow) => {
    const c = liveClient(t.url, user ? { authorization: `Bearer ${await t.tokenFor(user)}` } : undefined);
    clients.push(c);
    return c;
  };
  const courseWithStudent = async (): Promise<CourseRow> => {
    const course = await t.make.course(owner.id);
    await t.make.enrollment(student.id, course.id);
    return course;
  };
  const newLesson = (course: CourseRow, title = 'probe') =>
    t.gql(CREATE_LESSON, { c: gid('Course', course.id), t: title }, { token: ownerToken });

  describe('status machine', () => {
    it('moves SCHEDULED → IN_PROGRESS → COMPLETED, stamping each step', async () => {
      const course = await courseWithStudent();
      const id = gid('Lesson', (await t.make.lesson(course.id)).id);
      const started = (await t.gql(START, { id }, { token: ownerToken })).data.startLesson;
      expect(started.status).toBe('IN_PROGRESS');
      expect(Date.parse(started.startedAt)).toBeGreaterThan(Date.now() - 60_000);
      const done = (await t.gql(COMPLETE, { id }, { token: ownerToken })).data.completeLesson;
      expect(done.status).toBe('COMPLETED');
      expect(done.completedAt).not.toBeNull();
    });

    it.each([
      ['complete a SCHEDULED lesson', 'SCHEDULED', COMPLETE, 'COMPLETED'],
      ['start an IN_PROGRESS lesson', 'IN_PROGRESS', START, 'IN_PROGRESS'],
      ['start a COMPLETED lesson', 'COMPLETED', START, 'IN_PROGRESS'],
      ['cancel a COMPLETED lesson', 'COMPLETED', CANCEL, 'CANCELLED'],
      ['start a CANCELLED lesson', 'CANCELLED', START, 'IN_PROGRESS'],
    ] as const)('refuses to %s with CONFLICT naming from and to', async (_name, status, mutation, to) => {
      const course = await courseWithStudent();
      const id = gid('Lesson', (await t.make.lesson(course.id, { status })).id);
      const res = await t.gql(mutation, { id }, { token: ownerToken });
      expect(res.errors![0]!.extensions).toEqual({ code: 'CONFLICT', from: status, to });
    });

    it('cancels with an optional reason of at most 500 characters', async () => {
      const course = await courseWithStudent();
      const id = gid('Lesson', (await t.make.lesson(course.id, { status: 'IN_PROGRESS' })).id);
      const tooLong = await t.gql(CANCEL, { id, r: 'x'.repeat(501) }, { token: ownerToken });
      expect(tooLong.errors![0]!.extensions!.fieldErrors).toHaveProperty('reason');
      const res = (await t.gql(CANCEL, { id, r: '  Snow day  ' }, { token: ownerToken })).data.cancelLesson;
      expect(res).toMatchObject({ status: 'CANCELLED', cancellationReason: 'Snow day' });
    });

    it('reschedules only SCHEDULED lessons, and only into the future', async () => {
      const course = await courseWithStudent();
      const id = gid('Lesson', (await t.make.lesson(course.id)).id);
      const future = new Date(Date.now() + 7 * 86_400_000).toISOString();
      expect(
        (await t.gql(RESCHEDULE, { id, at: future }, { token: ownerToken })).data.rescheduleLesson.scheduledAt,
      ).toBe(future);
      const past = await t.gql(
        RESCHEDULE,
        { id, at: new Date(Date.now() - 60_000).toISOString() },
        { token: ownerToken },
      );
      expect(past.errors![0]!.extensions!.fieldErrors).toEqual({ scheduledAt: 'must be in the future' });
      await t.gql(START, { id }, { token: ownerToken });
      expect(codesOf(await t.gql(RESCHEDULE, { id, at: future }, { token: ownerToken }))).toEqual(['CONFLICT']);
    });

    it('lets only the instructor or an admin drive it', async () => {
      const course = await courseWithStudent();
      const id = gid('Lesson', (await t.make.lesson(course.id)).id);
      expect(codesOf(await t.gql(START, { id }, { token: await t.tokenFor(student) }))).toEqual(['FORBIDDEN']);
      expect(codesOf(await t.gql(START, { id }))).toEqual(['UNAUTHENTICATED']);
      expect((await t.gql(START, { id }, { token: await t.tokenFor(admin) })).data.startLesson.status).toBe(
        'IN_PROGRESS',
      );
    });

    it('tells each viewer which transitions they may make (allowedTransitions)', async () => {
      const course = await courseWithStudent();
      const id = gid('Lesson', (await t.make.lesson(course.id)).id);
      const q = `query($id: ID!) { lesson(id: $id) { allowedTransitions } }`;
      expect((await t.gql(q, { id }, { token: ownerToken })).data.lesson.allowedTransitions).toEqual([
        'IN_PROGRESS',
        'CANCELLED',
      ]);
      expect((await t.gql(q, { id }, { token: await t.tokenFor(student) })).data.lesson.allowedTransitions).toEqual([]);
      await t.gql(START, { id }, { token: ownerToken });
      expect((await t.gql(q, { id }, { token: ownerToken })).data.lesson.allowedTransitions).toEqual([
        'COMPLETED',
        'CANCELLED',
      ]);
    });
  });

  describe('lessonStatusChanged', () => {
    it('delivers creations, starts, completions and cancellations with the right previous status', async () => {
      const course = await courseWithStudent();
      const sub = subscribe(await connect(student), SUB, { c: gid('Course', course.id) });
      await primed(sub, () => newLesson(course));
      const created = await newLesson(course, 'Fresh');
      const creation = await sub.next();
      expect(creation.data.lessonStatusChanged).toMatchObject({
        previousStatus: null,
        status: 'SCHEDULED',
        changedBy: { id: gid('User', owner.id) },
        lesson: { id: created.data.createLesson.id, title: 'Fresh', course: { id: gid('Course', course.id) } },
      });
      const id = created.data.createLesson.id;
      await t.gql(START, { id }, { token: ownerToken });
      expect((await sub.next()).data.lessonStatusChanged).toMatchObject({
        previousStatus: 'SCHEDULED',
        status: 'IN_PROGRESS',
        lesson: { status: 'IN_PROGRESS' },
      });
      await t.gql(COMPLETE, { id }, { token: ownerToken });
      const completed = (await sub.next()).data.lessonStatusChanged;
      expect(completed).toMatchObject({ previousStatus: 'IN_PROGRESS', status: 'COMPLETED' });
      expect(completed.lesson.completedAt).not.toBeNull();
      const other = (await newLesson(course, 'Doomed')).data.createLesson.id;
      await sub.next();
      await t.gql(CANCEL, { id: other, r: 'Ill' }, { token: ownerToken });
      expect((await sub.next()).data.lessonStatusChanged).toMatchObject({
        previousStatus: 'SCHEDULED',
        status: 'CANCELLED',
        lesson: { cancellationReason: 'Ill' },
      });
      sub.stop();
    });

    it('publishes exactly one event for 4 concurrent starts, of which exactly one succeeds', async () => {
      const course = await courseWithStudent();
      const sub = subscribe(await connect(student), SUB, { c: gid('Course', course.id) });
      await primed(sub, () => newLesson(course));
      const id = gid('Lesson', (await t.make.lesson(course.id)).id);
      const results = await Promise.all([1, 2, 3, 4].map(() => t.gql(START, { id }, { token: ownerToken })));
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      expect(results.flatMap(codesOf)).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT']);
      expect((await sub.next()).data.lessonStatusChanged.status).toBe('IN_PROGRESS');
      expect(await sub.quiet(700)).toBe(true);
      sub.stop();
    });

    it('refuses students who are not enrolled (FORBIDDEN), anonymous viewers (UNAUTHENTICATED) and hidden courses (NOT_FOUND)', async () => {
      const course = await courseWithStudent();
      const outsiderSub = subscribe(await connect(outsider), SUB, { c: gid('Course', course.id) });
      expect(codesOf({ errors: (await outsiderSub.next()).errors } as never)).toEqual(['FORBIDDEN']);
      const anonSub = subscribe(await connect(), SUB, { c: gid('Course', course.id) });
      expect(codesOf({ errors: (await anonSub.next()).errors } as never)).toEqual(['UNAUTHENTICATED']);
      const draft = await t.make.course(owner.id, { status: 'DRAFT' });
      const hiddenSub = subscribe(await connect(student), SUB, { c: gid('Course', draft.id) });
      expect(codesOf({ errors: (await hiddenSub.next()).errors } as never)).toEqual(['NOT_FOUND']);
    });

    it('stops delivering to a student who unenrolls, without reconnecting', async () => {
      const course = await t.make.course(owner.id);
      const leaver = await t.make.user();
      await t.make.enrollment(leaver.id, course.id);
      await t.make.enrollment(student.id, course.id);
      const leaving = subscribe(await connect(leaver), SUB, { c: gid('Course', course.id) });
      const staying = subscribe(await connect(student), SUB, { c: gid('Course', course.id) });
      await primed([leaving, staying], () => newLesson(course));
      const un = await t.gql(
        `mutation($c: ID!) { unenroll(courseId: $c) { status } }`,
        { c: gid('Course', course.id) },
        { token: await t.tokenFor(leaver) },
      );
      expect(un.data.unenroll.status).toBe('CANCELLED');
      await newLesson(course, 'After leaving');
      expect((await staying.next()).data.lessonStatusChanged.lesson.title).toBe('After leaving');
      expect(await leaving.quiet(500)).toBe(true);
    });

    it('follows every course of the viewer with courseId null, including one joined later', async () => {
      const a = await courseWithStudent();
      const joiner = await t.make.user();
      await t.make.enrollment(joiner.id, a.id);
      const b = await t.make.course(owner.id);
      const sub = subscribe(await connect(joiner), SUB, { c: null });
      await primed(sub, () => newLesson(a));
      const enroll = await t.gql(
        `mutation($c: ID!) { enroll(courseId: $c) { status } }`,
        { c: gid('Course', b.id) },
        { token: await t.tokenFor(joiner) },
      );
      expect(enroll.errors).toBeUndefined();
      await primed(sub, () => newLesson(b));
      await newLesson(b, 'In b');
      expect((await sub.next()).data.lessonStatusChanged.lesson.title).toBe('In b');
      const elsewhere = await t.make.course(owner.id);
      await newLesson(elsewhere, 'Not followed');
      expect(await sub.quiet(500)).toBe(true);
    });

    it('gives admins every course with courseId null', async () => {
      const sub = subscribe(await connect(admin), SUB, { c: null });
      const course = await t.make.course(owner.id);
      await primed(sub, () => newLesson(course));
      const other = await t.make.course((await t.make.user({ role: 'INSTRUCTOR' })).id);
      const created = await t.gql(
        CREATE_LESSON,
        { c: gid('Course', other.id), t: 'Anywhere' },
        { token: await t.tokenFor(admin) },
      );
      expect(created.errors).toBeUndefined();
      expect((await sub.next()).data.lessonStatusChanged.lesson.title).toBe('Anywhere');
    });

    it('resolves nested fields with current data, per viewer', async () => {
      const course = await courseWithStudent();
      const lesson = await t.make.lesson(course.id, { content: 'v1' });
      const q = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { lesson { title content } } }`;
      const sub = subscribe(await connect(student), q, { c: gid('Course', course.id) });
      await primed(sub, () => newLesson(course));
      await t.app.database.db.update(lessons).set({ title: 'Renamed', content: 'v2' }).where(eq(lessons.id, lesson.id));
      await t.gql(START, { id: gid('Lesson', lesson.id) }, { token: ownerToken });
      expect((await sub.next()).data.lessonStatusChanged.lesson).toEqual({ title: 'Renamed', content: 'v2' });
    });
  });

  describe('connections', () => {
    it('closes with 4403 on a bad token', async () => {
      const c = liveClient(t.url, { authorization: 'Bearer not-a-token' });
      clients.push(c);
      expect(await c.closed).toBe(4403);
    });

    it('accepts the token as authToken too', async () => {
      const c = liveClient(t.url, { authToken: await t.tokenFor(student) });
      clients.push(c);
      const sub = subscribe(c, `subscription { lessonStatusChanged { status } }`);
      expect(await sub.quiet(300)).toBe(true); // subscribed, nothing refused
    });

    it('closes with 4403 when the access token expires', async () => {
      const short = await startTestApp({ ACCESS_TOKEN_TTL_SECONDS: '2' });
      try {
        const c = liveClient(short.url, { authorization: `Bearer ${await short.tokenFor(await short.make.user())}` });
        const started = Date.now();
        subscribe(c, `subscription { lessonStatusChanged { status } }`);
        expect(await c.closed).toBe(4403);
        expect(Date.now() - started).toBeLessThan(4_000);
        await c.dispose();
      } finally {
        await short.close();
      }
    });

    it('closes the sockets of a user who logs out, and refuses the ended session afterwards', async () => {
      const user = await userWithPassword(t, 'magnolia-tandem-88');
      const session = (await t.gql(LOGIN, { input: { email: user.email, password: 'magnolia-tandem-88' } })).data.login;
      const c = liveClient(t.url, { authorization: `Bearer ${session.accessToken}` });
      clients.push(c);
      subscribe(c, `subscription { lessonStatusChanged { status } }`);
      await c.connected;
      await t.gql(LOGOUT, { t: session.refreshToken });
      expect(await c.closed).toBe(4403);
      const again = liveClient(t.url, { authorization: `Bearer ${session.accessToken}` });
      clients.push(again);
      expect(await again.closed).toBe(4403);
    });

    it("closes a user's sockets when their role changes", async () => {
      const user = await t.make.user();
      const c = await connect(user);
      subscribe(c, `subscription { lessonStatusChanged { status } }`);
      await c.connected;
      const res = await t.gql(
        `mutation($u: ID!) { setUserRole(input: { userId: $u, role: INSTRUCTOR }) { role } }`,
        { u: gid('User', user.id) },
        { token: await t.tokenFor(admin) },
      );
      expect(res.errors).toBeUndefined();
      expect(await c.closed).toBe(4403);
    });

    it('applies the HTTP query limits to WebSocket operations', async () => {
      const c = await connect(student);
      const deep = subscribe(
        c,
        `subscription { lessonStatusChanged { lesson { course { instructor { coursesTaught { edges { node { lessons { edges { node { title } } } } } } } } } } }`,
      );
      const err = (await deep.ended) as Array<{ message: string; extensions?: { code?: string } }>;
      expect(err[0]!.message).toMatch(/depth/i);
      expect(err[0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const broken = subscribe(c, `subscription { lessonStatusChanged { `);
      expect(((await broken.ended) as Array<{ extensions?: { code?: string } }>)[0]!.extensions?.code).toBe(
        'GRAPHQL_PARSE_FAILED',
      );
      const costly = subscribe(
        c,
        `query { courses(first: 100) { edges { node { lessons(first: 100) { edges { node { title } } } } } } }`,
      );
      expect(((await costly.ended) as Array<{ message: string }>)[0]!.message).toMatch(/cost/);
    });

    it('closes a socket that sends an oversized message (64 KiB)', async () => {
      const c = await connect(student);
      subscribe(c, `query { me { id } } # ${'x'.repeat(70 * 1024)}`);
      expect(await c.closed).toBe(1009);
    });

    it('closes a socket that never sends connection_init', async () => {
      const { default: WebSocket } = await import('ws');
      const raw = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      const code = await new Promise<number>((resolve) => raw.on('close', (c) => resolve(c)));
      expect(code).toBe(4408);
    });

    it('serves queries and mutations over the socket with the same authorization', async () => {
      const c = await connect(student);
      const me = subscribe(c, `{ me { id } }`);
      expect((await me.next()).data.me.id).toBe(gid('User', student.id));
      const course = await courseWithStudent();
      const id = gid('Lesson', (await t.make.lesson(course.id)).id);
      const start = subscribe(c, START, { id });
      expect(codesOf({ errors: (await start.next()).errors } as never)).toEqual(['FORBIDDEN']);
      expect(uuidOf('Lesson', id)).not.toBeNull();
    });
  });
});
