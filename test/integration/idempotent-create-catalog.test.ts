import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { codesOf } from '../helpers/graphql-client.js';
import { gid } from '../helpers/factories.js';
import { CREATE_QUIZ, fourKinds } from '../helpers/quizzes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CREATE_SECTION = `mutation($input: CreateSectionInput!) { createSection(input: $input) { id title position } }`;

let t: TestApp;
let instructor: UserRow;
let token: string;
beforeAll(async () => {
  t = await startTestApp();
  instructor = await t.make.user({ role: 'INSTRUCTOR' });
  token = await t.tokenFor(instructor);
});
afterAll(() => t?.close());

/** A count on a connection of the test's own. */
async function count(query: string, ...params: string[]): Promise<number> {
  const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${query}`, params);
    return row!.n;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

describe('createSection with a clientMutationId', () => {
  it('creates one section when a request whose answer was lost is retried with the same id', async () => {
    const course = await t.make.course(instructor.id);
    // The course row is locked by another session: the first attempt is still waiting when the
    // client gives up on it, and commits afterwards.
    const other = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const lock = other.begin(async (tx) => {
        await tx`select id from courses where id = ${course.id} for update`;
        locked();
        await held;
      });
      await isLocked;
      const input = { courseId: gid('Course', course.id), title: 'Lost answer', clientMutationId: 'sec-1' };
      const first = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: CREATE_SECTION, variables: { input } }),
        signal: AbortSignal.timeout(300),
      }).catch((err: unknown) => err);
      expect(first).toBeInstanceOf(Error); // the client saw no answer
      release();
      await lock;
      await vi.waitFor(async () => expect(await count(`sections where course_id = $1`, course.id)).toBe(1), {
        timeout: 10_000,
        interval: 50,
      });

      const retry = await t.gql(CREATE_SECTION, { input }, { token });
      expect(retry.errors).toBeUndefined();
      expect(retry.data.createSection).toMatchObject({ title: 'Lost answer', position: 0 });
      const again = await t.gql(CREATE_SECTION, { input }, { token });
      expect(again.data.createSection.id).toBe(retry.data.createSection.id);
      expect(await count(`sections where course_id = $1`, course.id)).toBe(1);
    } finally {
      await other.end();
    }
  });

  it('answers CONFLICT for the key with another input, BAD_USER_INPUT for a malformed key, and always creates without one', async () => {
    const course = await t.make.course(instructor.id);
    const input = { courseId: gid('Course', course.id), title: 'Week 1', clientMutationId: 'sec-2' };
    expect((await t.gql(CREATE_SECTION, { input }, { token })).errors).toBeUndefined();
    const other = await t.gql(CREATE_SECTION, { input: { ...input, title: 'Week 2' } }, { token });
    expect(codesOf(other)).toEqual(['CONFLICT']);
    expect(other.errors?.[0]?.message).toMatch(/different input/);
    const bad = await t.gql(CREATE_SECTION, { input: { ...input, clientMutationId: 'x'.repeat(201) } }, { token });
    expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(bad.errors)).toContain('clientMutationId');
    const plain = { courseId: input.courseId, title: 'Week 1' };
    await t.gql(CREATE_SECTION, { input: plain }, { token });
    await t.gql(CREATE_SECTION, { input: plain }, { token });
    expect(await count(`sections where course_id = $1 and title = 'Week 1'`, course.id)).toBe(3);
  });
});

describe('createQuiz with a clientMutationId', () => {
  it('creates one quiz for concurrent attempts with one id, and refuses the id with another input', async () => {
    const course = await t.make.course(instructor.id);
    const lesson = await t.make.lesson(course.id);
    const input = { lessonId: gid('Lesson', lesson.id), ...fourKinds(), clientMutationId: 'quiz-1' };
    const results = await Promise.all(Array.from({ length: 4 }, () => t.gql(CREATE_QUIZ, { input }, { token })));
    expect(results.map((r) => r.errors)).toEqual([undefined, undefined, undefined, undefined]);
    expect(new Set(results.map((r) => r.data.createQuiz.id)).size).toBe(1);
    expect(await count(`quizzes where lesson_id = $1`, lesson.id)).toBe(1);

    const other = await t.gql(CREATE_QUIZ, { input: { ...input, title: 'Another' } }, { token });
    expect(codesOf(other)).toEqual(['CONFLICT']);
    const bad = await t.gql(CREATE_QUIZ, { input: { ...input, clientMutationId: ' ' } }, { token });
    expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(bad.errors)).toContain('clientMutationId');
    expect(await count(`quizzes where lesson_id = $1`, lesson.id)).toBe(1);
  });
});
