import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { uuidOf } from '../../src/graphql/global-id.js';
import { codesOf } from '../helpers/graphql-client.js';
import { gid } from '../helpers/factories.js';
import { queryRows } from '../helpers/notifications.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CREATE_LESSON = `mutation($input: CreateLessonInput!) { createLesson(input: $input) { id title } }`;

/**
 * A client that did not get an answer (a timeout, a dropped connection, a 503 while the
 * COMMIT went through) retries with the same clientMutationId and gets the lesson the first
 * attempt made, not a second one.
 */
describe('createLesson with a clientMutationId', () => {
  let t: TestApp;
  let instructor: UserRow;
  let token: string;
  let courseId: string;

  beforeAll(async () => {
    t = await startTestApp();
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    token = await t.tokenFor(instructor);
    courseId = gid('Course', (await t.make.course(instructor.id)).id);
  });
  afterAll(() => t?.close());

  const lessonsTitled = async (title: string) =>
    (
      await queryRows<{ n: number }>(
        t.app.database.db,
        sql`select count(*)::int as n from lessons where title = ${title}`,
      )
    )[0]!.n;

  it('creates one lesson when a request whose answer was lost is retried with the same id', async () => {
    // The course row is locked by another session, so the first attempt is still waiting
    // when the client gives up on it; it commits afterwards.
    const other = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const lock = other.begin(async (tx) => {
        await tx`select id from courses where id = ${uuidOf('Course', courseId)} for update`;
        locked();
        await held;
      });
      await isLocked;
      const input = { courseId, title: 'Lost answer', clientMutationId: 'req-7f3a' };
      const first = fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: CREATE_LESSON, variables: { input } }),
        signal: AbortSignal.timeout(300),
      }).catch((err: unknown) => err);
      expect(await first).toBeInstanceOf(Error); // the client saw no answer
      release();
      await lock;
      // The server went on and committed the first attempt.
      await vi.waitFor(
        async () => {
          const n = await lessonsTitled('Lost answer');
          expect(n).toBe(1);
          return n;
        },
        { timeout: 10_000, interval: 50 },
      );

      const retry = await t.gql(CREATE_LESSON, { input }, { token });
      expect(retry.errors).toBeUndefined();
      expect(retry.data.createLesson.title).toBe('Lost answer');
      expect(await lessonsTitled('Lost answer')).toBe(1);
      const again = await t.gql(CREATE_LESSON, { input }, { token });
      expect(again.data.createLesson.id).toBe(retry.data.createLesson.id);
    } finally {
      await other.end();
    }
  });

  it('creates one lesson for concurrent attempts with one id, and new ones for new ids', async () => {
    const input = { courseId, title: 'Concurrent', clientMutationId: 'req-concurrent' };
    const results = await Promise.all(Array.from({ length: 5 }, () => t.gql(CREATE_LESSON, { input }, { token })));
    expect(results.map((r) => r.errors)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(new Set(results.map((r) => r.data.createLesson.id)).size).toBe(1);
    expect(await lessonsTitled('Concurrent')).toBe(1);
    await t.gql(CREATE_LESSON, { input: { ...input, clientMutationId: 'req-other' } }, { token });
    await t.gql(CREATE_LESSON, { input: { courseId, title: 'Concurrent' } }, { token }); // no id: always new
    expect(await lessonsTitled('Concurrent')).toBe(3);
  });

  it('keeps ids per user, and refuses a malformed one with BAD_USER_INPUT', async () => {
    const colleague = await t.make.user({ role: 'ADMIN' });
    const input = { courseId, title: 'Per user', clientMutationId: 'shared-id' };
    const mine = await t.gql(CREATE_LESSON, { input }, { token });
    const theirs = await t.gql(CREATE_LESSON, { input }, { token: await t.tokenFor(colleague) });
    expect(theirs.data.createLesson.id).not.toBe(mine.data.createLesson.id);
    const bad = await t.gql(CREATE_LESSON, { input: { ...input, clientMutationId: 'x'.repeat(201) } }, { token });
    expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(bad.errors)).toContain('clientMutationId');
  });
});

const CREATE_COURSE = `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id title } }`;

/** The same for createCourse: a retry with the first attempt's clientMutationId gets its course. */
describe('createCourse with a clientMutationId', () => {
  let t: TestApp;
  let instructor: UserRow;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    token = await t.tokenFor(instructor);
  });
  afterAll(() => t?.close());

  const coursesTitled = async (title: string) =>
    (
      await queryRows<{ n: number }>(
        t.app.database.db,
        sql`select count(*)::int as n from courses where title = ${title}`,
      )
    )[0]!.n;

  it('creates one course when a request whose answer was lost is retried with the same id', async () => {
    // The instructor's row is locked by another session, so the first attempt's insert (its
    // foreign key) is still waiting when the client gives up on it; it commits afterwards.
    const other = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const lock = other.begin(async (tx) => {
        await tx`select id from users where id = ${instructor.id} for update`;
        locked();
        await held;
      });
      await isLocked;
      const input = { title: 'Lost course answer', clientMutationId: 'req-7f3a' };
      const first = fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: CREATE_COURSE, variables: { input } }),
        signal: AbortSignal.timeout(300),
      }).catch((err: unknown) => err);
      expect(await first).toBeInstanceOf(Error); // the client saw no answer
      release();
      await lock;
      // The server went on and committed the first attempt.
      await vi.waitFor(
        async () => {
          const n = await coursesTitled('Lost course answer');
          expect(n).toBe(1);
          return n;
        },
        { timeout: 10_000, interval: 50 },
      );

      const retry = await t.gql(CREATE_COURSE, { input }, { token });
      expect(retry.errors).toBeUndefined();
      expect(retry.data.createCourse.title).toBe('Lost course answer');
      expect(await coursesTitled('Lost course answer')).toBe(1);
      const again = await t.gql(CREATE_COURSE, { input }, { token });
      expect(again.data.createCourse.id).toBe(retry.data.createCourse.id);
    } finally {
      await other.end();
    }
  });

  it('creates one course for concurrent attempts with one id, and new ones for new ids', async () => {
    const input = { title: 'Concurrent course', clientMutationId: 'req-concurrent' };
    const results = await Promise.all(Array.from({ length: 5 }, () => t.gql(CREATE_COURSE, { input }, { token })));
    expect(results.map((r) => r.errors)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(new Set(results.map((r) => r.data.createCourse.id)).size).toBe(1);
    expect(await coursesTitled('Concurrent course')).toBe(1);
    await t.gql(CREATE_COURSE, { input: { ...input, clientMutationId: 'req-other' } }, { token });
    await t.gql(CREATE_COURSE, { input: { title: 'Concurrent course' } }, { token }); // no id: always new
    expect(await coursesTitled('Concurrent course')).toBe(3);
  });

  it('answers CONFLICT when the id was used for a course that has since been deleted', async () => {
    const input = { title: 'Deleted course', clientMutationId: 'req-deleted' };
    const created = await t.gql(CREATE_COURSE, { input }, { token });
    const deleted = await t.gql(
      `mutation($id: ID!) { deleteCourse(id: $id) }`,
      { id: created.data.createCourse.id },
      { token },
    );
    expect(deleted.errors).toBeUndefined();
    const retry = await t.gql(CREATE_COURSE, { input }, { token });
    expect(codesOf(retry)).toEqual(['CONFLICT']);
    expect(await coursesTitled('Deleted course')).toBe(0);
  });

  it('keeps ids per user, and refuses a malformed one with BAD_USER_INPUT', async () => {
    const colleague = await t.make.user({ role: 'INSTRUCTOR' });
    const input = { title: 'Per user course', clientMutationId: 'shared-id' };
    const mine = await t.gql(CREATE_COURSE, { input }, { token });
    const theirs = await t.gql(CREATE_COURSE, { input }, { token: await t.tokenFor(colleague) });
    expect(theirs.data.createCourse.id).not.toBe(mine.data.createCourse.id);
    const bad = await t.gql(CREATE_COURSE, { input: { ...input, clientMutationId: 'x'.repeat(201) } }, { token });
    expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(bad.errors)).toContain('clientMutationId');
  });
});

/**
 * A replay returns what the first attempt made only for the same input, and only as today's
 * authorization allows; anything else is CONFLICT (as Stripe answers a reused key).
 */
describe('a clientMutationId reused with a different input or after a loss of access', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('does not hand a lesson made as an admin in someone’s draft to the same user, demoted, on another course', async () => {
    const owner = await t.make.user({ role: 'INSTRUCTOR' });
    const draft = await t.make.course(owner.id, { title: 'Someone else’s draft', status: 'DRAFT' });
    const user = await t.make.user({ role: 'ADMIN' });
    const asAdmin = await t.gql(
      CREATE_LESSON,
      { input: { courseId: gid('Course', draft.id), title: 'Made by an admin', clientMutationId: 'shared-key-1' } },
      { token: await t.tokenFor(user) },
    );
    expect(asAdmin.errors).toBeUndefined();
    await t.app.database.db.execute(sql`update users set role = 'INSTRUCTOR' where id = ${user.id}::uuid`);
    const own = await t.make.course(user.id, { title: 'Their own course' });
    const replay = await t.gql(
      CREATE_LESSON,
      { input: { courseId: gid('Course', own.id), title: 'Made by an admin', clientMutationId: 'shared-key-1' } },
      { token: await t.tokenFor({ id: user.id, role: 'INSTRUCTOR' }) },
    );
    expect(codesOf(replay)).toEqual(['CONFLICT']);
    expect(replay.data).toBeNull();
    expect(JSON.stringify(replay)).not.toContain(asAdmin.data.createLesson.id);
  });

  it('answers CONFLICT for the same key with another title on the same course, and replays the same input', async () => {
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const token = await t.tokenFor(instructor);
    const courseId = gid('Course', (await t.make.course(instructor.id)).id);
    const input = { courseId, title: 'Week 1', clientMutationId: 'shared-key-2' };
    const first = await t.gql(CREATE_LESSON, { input }, { token });
    expect((await t.gql(CREATE_LESSON, { input }, { token })).data.createLesson).toEqual(first.data.createLesson);
    const other = await t.gql(CREATE_LESSON, { input: { ...input, title: 'Week 2' } }, { token });
    expect(codesOf(other)).toEqual(['CONFLICT']);
    expect(other.errors?.[0]?.message).toMatch(/different input/);
  });

  it('answers CONFLICT for a course key reused with another title', async () => {
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const token = await t.tokenFor(instructor);
    const create = `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id title } }`;
    const input = { title: 'Statistics', clientMutationId: 'shared-key-3' };
    const first = await t.gql(create, { input }, { token });
    expect((await t.gql(create, { input }, { token })).data.createCourse).toEqual(first.data.createCourse);
    expect(codesOf(await t.gql(create, { input: { ...input, title: 'Statistics II' } }, { token }))).toEqual([
      'CONFLICT',
    ]);
  });
});
