import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { deleteOldLessonEvents } from '../../src/modules/lessons/lesson-event.repository.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { graphqlClient, type GraphQLClient } from '../helpers/graphql-client.js';
import { spawnApi, type RunningApi } from '../helpers/spawn-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe, type LiveClient, type Subscription } from '../helpers/ws-client.js';

const SUB = `subscription($c: ID, $after: String) { lessonStatusChanged(courseId: $c, after: $after) {
  cursor previousStatus status lesson { title course { id } } } }`;
const CREATE = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;
const START = `mutation($id: ID!) { startLesson(id: $id) { status } }`;
const COMPLETE = `mutation($id: ID!) { completeLesson(id: $id) { status } }`;

interface Change {
  cursor: string;
  previousStatus: string | null;
  status: string;
  lesson: { title: string; course: { id: string } };
}

/** The log position inside an (opaque) cursor: only to assert the order in these tests. */
const seqOf = (cursor: string) => Number(Buffer.from(cursor, 'base64url').toString('utf8').split(':')[1]);

/**
 * `lessonStatusChanged(after:)`: a client that disconnects and resubscribes with the last cursor
 * it saw receives every change it missed, in order, exactly once, then the live ones; also when
 * the reconnect lands on another API process.
 */
describe('replayable lessonStatusChanged', () => {
  let t: TestApp;
  let b: RunningApi;
  let gqlB: GraphQLClient;
  let owner: UserRow, student: UserRow;
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
    gqlB = graphqlClient(b.url);
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    student = await t.make.user();
    ownerToken = await t.tokenFor(owner);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await b?.stop();
    await t?.close();
  });

  const connect = async (url: string, user: UserRow) => {
    const socket = liveClient(url, { authorization: `Bearer ${await t.tokenFor(user)}` });
    sockets.push(socket);
    await socket.connected;
    return socket;
  };
  const courseWithStudent = async (): Promise<CourseRow> => {
    const course = await t.make.course(owner.id);
    await t.make.enrollment(student.id, course.id);
    return course;
  };
  const create = async (course: CourseRow, title: string): Promise<string> => {
    const res = await t.gql(CREATE, { c: gid('Course', course.id), t: title }, { token: ownerToken });
    expect(res.errors).toBeUndefined();
    return res.data.createLesson.id;
  };
  const run = async (query: string, id: string) =>
    expect((await t.gql(query, { id }, { token: ownerToken })).errors).toBeUndefined();
  const take = async (sub: Subscription, n: number): Promise<Change[]> => {
    const out: Change[] = [];
    for (let i = 0; i < n; i++) {
      const r = await sub.next();
      expect(r.errors).toBeUndefined();
      out.push(r.data.lessonStatusChanged);
    }
    return out;
  };
  /** A live subscription that has seen one event: returns its cursor. */
  const firstCursor = async (socket: LiveClient, course: CourseRow) => {
    const sub = subscribe(socket, SUB, { c: gid('Course', course.id) });
    await primed(sub, () => create(course, 'probe'));
    const id = await create(course, 'marker');
    const [marker] = await take(sub, 1);
    expect(marker!.lesson.title).toBe('marker');
    sub.stop();
    return { cursor: marker!.cursor, markerId: id };
  };

  it('gives every change a strictly increasing cursor', async () => {
    const course = await courseWithStudent();
    const socket = await connect(t.url, student);
    const sub = subscribe(socket, SUB, { c: gid('Course', course.id) });
    await primed(sub, () => create(course, 'probe'));
    const id = await create(course, 'one');
    await run(START, id);
    await run(COMPLETE, id);
    const changes = await take(sub, 3);
    expect(changes.map((c) => c.status)).toEqual(['SCHEDULED', 'IN_PROGRESS', 'COMPLETED']);
    const seqs = changes.map((c) => seqOf(c.cursor));
    expect(seqs[1]! > seqs[0]! && seqs[2]! > seqs[1]!).toBe(true);
  });

  it('replays what was missed while disconnected, in order and once, then goes on live', async () => {
    const course = await courseWithStudent();
    const first = await connect(t.url, student);
    const { cursor, markerId } = await firstCursor(first, course);
    await first.dispose(); // the client goes away

    // Changes while nobody listens.
    await run(START, markerId);
    const other = await create(course, 'while away');
    await run(COMPLETE, markerId);
    await run(START, other);

    const again = await connect(t.url, student);
    const sub = subscribe(again, SUB, { c: gid('Course', course.id), after: cursor });
    const replayed = await take(sub, 4);
    expect(replayed.map((c) => [c.lesson.title, c.previousStatus, c.status])).toEqual([
      ['marker', 'SCHEDULED', 'IN_PROGRESS'],
      ['while away', null, 'SCHEDULED'],
      ['marker', 'IN_PROGRESS', 'COMPLETED'],
      ['while away', 'SCHEDULED', 'IN_PROGRESS'],
    ]);
    // Live after the replay, with nothing repeated in between.
    await create(course, 'live');
    const [live] = await take(sub, 1);
    expect(live!.lesson.title).toBe('live');
    const seqs = [...replayed, live!].map((c) => seqOf(c.cursor));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs[0]!).toBeGreaterThan(seqOf(cursor));
    expect(await sub.quiet(300)).toBe(true);
  });

  it('loses nothing and repeats nothing when changes race the resubscription', async () => {
    const course = await courseWithStudent();
    const first = await connect(t.url, student);
    const { cursor } = await firstCursor(first, course);
    await first.dispose();
    const before = await Promise.all([1, 2, 3, 4, 5].map((i) => create(course, `before ${i}`)));

    const again = await connect(t.url, student);
    const sub = subscribe(again, SUB, { c: gid('Course', course.id), after: cursor });
    // Changes committed while the server subscribes, replays and switches to live.
    const during: string[] = [];
    for (let i = 1; i <= 10; i++) during.push(await create(course, `during ${i}`));
    const got = await take(sub, before.length + during.length);
    const titles = got.map((c) => c.lesson.title);
    expect(new Set(titles)).toEqual(
      new Set([...[1, 2, 3, 4, 5].map((i) => `before ${i}`), ...during.map((_, i) => `during ${i + 1}`)]),
    );
    const seqs = got.map((c) => seqOf(c.cursor));
    expect(new Set(seqs).size).toBe(seqs.length); // no duplicate
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y)); // in log order (one course: commit order)
    expect(await sub.quiet(300)).toBe(true); // and nothing extra
  });

  it('replays on another API process, then delivers its live changes there', async () => {
    const course = await courseWithStudent();
    const onA = await connect(t.url, student);
    const { cursor, markerId } = await firstCursor(onA, course);
    await onA.dispose();
    await run(START, markerId);
    const extra = await create(course, 'made on A');

    const onB = await connect(b.url, student);
    const sub = subscribe(onB, SUB, { c: gid('Course', course.id), after: cursor });
    const replayed = await take(sub, 2);
    expect(replayed.map((c) => [c.lesson.title, c.status])).toEqual([
      ['marker', 'IN_PROGRESS'],
      ['made on A', 'SCHEDULED'],
    ]);
    // A change made through B's own API and one through A both reach the socket on B, live.
    expect((await gqlB(START, { id: extra }, { token: ownerToken })).errors).toBeUndefined();
    await create(course, 'live from A');
    const live = await take(sub, 2);
    expect(live.map((c) => [c.lesson.title, c.status])).toEqual([
      ['made on A', 'IN_PROGRESS'],
      ['live from A', 'SCHEDULED'],
    ]);
    const seqs = [...replayed, ...live].map((c) => seqOf(c.cursor));
    expect(new Set(seqs).size).toBe(4);
  });

  it('replays only what the viewer may see now (all followed courses, not one left since)', async () => {
    const kept = await courseWithStudent();
    const left = await courseWithStudent();
    const socket = await connect(t.url, student);
    const { cursor } = await firstCursor(socket, kept);
    const res = await t.gql(
      `mutation($c: ID!) { unenroll(courseId: $c) { id } }`,
      { c: gid('Course', left.id) },
      { token: await t.tokenFor(student) },
    );
    expect(res.errors).toBeUndefined();
    await create(left, 'in the course left');
    await create(kept, 'in the course kept');
    const sub = subscribe(socket, SUB, { c: null, after: cursor });
    const [replayed] = await take(sub, 1);
    expect(replayed!.lesson.title).toBe('in the course kept');
    expect(await sub.quiet(300)).toBe(true);
    // And a course-specific resubscription to the course left is refused.
    const refused = subscribe(socket, SUB, { c: gid('Course', left.id), after: cursor });
    expect((await refused.next()).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('answers an expired cursor with BAD_USER_INPUT and reason CURSOR_EXPIRED, garbage with BAD_USER_INPUT', async () => {
    const course = await courseWithStudent();
    const socket = await connect(t.url, student);
    const { cursor } = await firstCursor(socket, course);
    await create(course, 'newer');
    // The retention job drops events older than its horizon: age this one past it.
    const db = t.app.database.db;
    await db.execute(
      sql`update lesson_events set created_at = now() - interval '8 days' where seq <= ${seqOf(cursor)}`,
    );
    expect(await deleteOldLessonEvents(db, 7)).toBeGreaterThan(0);

    const expired = subscribe(socket, SUB, { c: gid('Course', course.id), after: cursor });
    const err = (await expired.next()).errors?.[0];
    expect(err?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(err?.extensions?.reason).toBe('CURSOR_EXPIRED');

    for (const after of [
      'garbage!',
      'bHNjOjk5OTk5OTk5OTk5',
      Buffer.from('lsc:0').toString('base64url'),
      'x'.repeat(100),
    ]) {
      const bad = subscribe(socket, SUB, { c: gid('Course', course.id), after });
      const e = (await bad.next()).errors?.[0];
      expect(e?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(e?.extensions?.reason).toBeUndefined();
    }
  });
});
