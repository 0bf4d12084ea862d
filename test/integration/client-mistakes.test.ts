import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf, type GraphQLResponse } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const NUL = '\u0000';

/**
 * Client mistakes found by a security review: each was a 500 before. In the
 * production configuration, every one is a 4xx with a documented code (docs/api-guide.md).
 */
describe('client mistakes are never a 500 (production configuration)', () => {
  let t: TestApp;
  let instructor: UserRow;
  let admin: UserRow;
  let student: UserRow;
  let course: CourseRow;
  let tokens: { instructor: string; admin: string; student: string };

  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'production', METRICS_TOKEN: 'metrics-token-for-tests-0123456789' });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    admin = await t.make.user({ role: 'ADMIN' });
    student = await t.make.user({ role: 'STUDENT' });
    course = await t.make.course(instructor.id, { status: 'PUBLISHED', title: 'Published course' });
    tokens = {
      instructor: await t.tokenFor(instructor),
      admin: await t.tokenFor(admin),
      student: await t.tokenFor(student),
    };
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const json = (await res.json()) as { data?: unknown; errors?: GraphQLResponse['errors'] };
    return { status: res.status, data: json.data, errors: json.errors };
  };
  /** 400 when nothing resolved; a nullable root field keeps the API's partial-data 200. */
  const expectBadInput = (
    res: { status: number; data?: unknown; errors?: GraphQLResponse['errors'] },
    field?: string | RegExp,
  ) => {
    expect(res.status).toBe(res.data == null ? 400 : 200);
    expect(codesOf(res as GraphQLResponse)).toEqual(['BAD_USER_INPUT']);
    if (field) expect(Object.keys(res.errors?.[0]?.extensions?.fieldErrors ?? {}).join(',')).toMatch(field);
  };

  describe('1. NUL characters in strings', () => {
    it.each([
      [
        'course search',
        `query($s: String) { courses(filter: { search: $s }) { totalCount } }`,
        { s: `a${NUL}b` },
        undefined,
        /search/,
      ],
      ['course slug', `query($s: String!) { courseBySlug(slug: $s) { id } }`, { s: `x${NUL}` }, undefined, /slug/],
      [
        'login email',
        `mutation($e: String!) { login(input: { email: $e, password: "whatever-123456" }) { accessToken } }`,
        { e: `a${NUL}@example.test` },
        undefined,
        /email/,
      ],
      [
        'register email',
        `mutation($e: String!) { register(input: { email: $e, password: "plum-kettle-harbour-42", displayName: "N" }) { accessToken } }`,
        { e: `nul${NUL}@example.test` },
        undefined,
        /email/,
      ],
      [
        'display name',
        `mutation($d: String) { updateProfile(input: { displayName: $d }) { id } }`,
        { d: `Me${NUL}` },
        'student',
        /displayName/,
      ],
      [
        'course title (literal)',
        `mutation { createCourse(input: { title: "T\\u0000" }) { id } }`,
        {},
        'instructor',
        /title/,
      ],
      [
        'admin user search',
        `query($s: String) { users(filter: { search: $s }) { totalCount } }`,
        { s: NUL },
        'admin',
        /search/,
      ],
    ] as const)('%s: BAD_USER_INPUT naming the field', async (_what, query, variables, who, field) => {
      const headers: Record<string, string> = who ? { authorization: `Bearer ${tokens[who]}` } : {};
      expectBadInput(await post({ query, variables }, headers), field);
    });

    it('lesson content and cancel reason', async () => {
      const lesson = await t.make.lesson(course.id);
      const auth = { authorization: `Bearer ${tokens.instructor}` };
      expectBadInput(
        await post(
          {
            query: `mutation($i: UpdateLessonInput!) { updateLesson(input: $i) { id } }`,
            variables: { i: { id: gid('Lesson', lesson.id), content: `x${NUL}` } },
          },
          auth,
        ),
        /content/,
      );
      expectBadInput(
        await post(
          {
            query: `mutation($id: ID!, $r: String) { cancelLesson(id: $id, reason: $r) { id } }`,
            variables: { id: gid('Lesson', lesson.id), r: NUL },
          },
          auth,
        ),
        /reason/,
      );
    });
  });

  describe('2. cursors carrying values Postgres cannot take', () => {
    const cursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    const ZERO = '00000000-0000-0000-0000-000000000000';
    it.each([
      ['an integer beyond int4', 'PRICE', cursor(['courses:PRICE:ASC', 9007199254740991, ZERO])],
      ['a negative integer beyond int4', 'PRICE', cursor(['courses:PRICE:ASC', -2147483649, ZERO])],
      [
        'a year Postgres cannot store',
        'CREATED_AT',
        cursor(['courses:CREATED_AT:ASC', '+275760-09-13T00:00:00.000Z', ZERO]),
      ],
      [
        'a year before the epoch of JS dates',
        'CREATED_AT',
        cursor(['courses:CREATED_AT:ASC', '-271821-04-20T00:00:00.000Z', ZERO]),
      ],
      ['a NUL in text', 'TITLE', cursor(['courses:TITLE:ASC', `a${NUL}`, ZERO])],
    ])('%s is BAD_USER_INPUT naming after', async (_what, field, after) => {
      const res = await post({
        query: `query($a: String, $f: CourseOrderField!) { courses(after: $a, orderBy: { field: $f, direction: ASC }) { totalCount edges { cursor } } }`,
        variables: { a: after, f: field },
      });
      expectBadInput(res, /^after$/);
    });

    it('cursors the API made itself still work', async () => {
      await t.make.course(instructor.id, { status: 'PUBLISHED', title: 'Second', priceCents: 500 });
      for (const field of ['PRICE', 'CREATED_AT', 'TITLE']) {
        const q = `query($a: String, $f: CourseOrderField!) { courses(first: 1, after: $a, orderBy: { field: $f, direction: ASC }) { edges { cursor } pageInfo { hasNextPage } } }`;
        const first = await post({ query: q, variables: { f: field } });
        const after = (first.data as any).courses.edges[0].cursor;
        const second = await post({ query: q, variables: { f: field, a: after } });
        expect(second.errors).toBeUndefined();
      }
    });
  });

  describe('3. DateTime edges', () => {
    it.each(['0000-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', '10000-01-01T00:00:00Z'])(
      'scheduledAt %s is BAD_USER_INPUT',
      async (when) => {
        const res = await post(
          {
            query: `mutation($i: CreateLessonInput!) { createLesson(input: $i) { id } }`,
            variables: { i: { courseId: gid('Course', course.id), title: 'Edge', scheduledAt: when } },
          },
          { authorization: `Bearer ${tokens.instructor}` },
        );
        expect(res.status).toBe(400);
        expect(codesOf(res as GraphQLResponse)).toEqual(['BAD_USER_INPUT']);
        expect(res.errors?.[0]?.message).toMatch(/DateTime/);
      },
    );

    it('accepts the ends of the documented range', async () => {
      const res = await post(
        {
          query: `mutation($i: CreateLessonInput!) { createLesson(input: $i) { scheduledAt } }`,
          variables: { i: { courseId: gid('Course', course.id), title: 'Far', scheduledAt: '9999-12-31T23:59:59Z' } },
        },
        { authorization: `Bearer ${tokens.instructor}` },
      );
      expect(res.errors).toBeUndefined();
    });
  });

  describe('4. deep variables', () => {
    // Built as text: JSON.stringify itself would overflow on the test's side.
    const deepArray = (n: number) => `${'['.repeat(n)}"x"${']'.repeat(n)}`;
    const deepObject = (n: number) => `${'{"a":'.repeat(n)}{}${'}'.repeat(n)}`;
    it('a 40,000-deep array on a cacheable query is a 400, not a stack overflow', async () => {
      const res = await post(
        `{"query":"query($s: String) { courses(filter: { search: $s }) { totalCount } }","variables":{"s":${deepArray(40_000)}}}`,
      );
      expect(res.status).toBe(400);
      expect(codesOf(res as GraphQLResponse)).toEqual(['BAD_USER_INPUT']);
    });
    it('a 15,000-deep object (as deep as the body limit allows) is a 400 too', async () => {
      const res = await post(
        `{"query":"query($f: CourseFilter) { courses(filter: $f) { totalCount } }","variables":{"f":${deepObject(15_000)}}}`,
      );
      expect(res.status).toBe(400);
      expect(codesOf(res as GraphQLResponse)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('5. operations that cannot be resolved', () => {
    it.each([
      ['two operations and no operationName', { query: 'query A { __typename } query B { __typename }' }],
      ['an operationName that matches nothing', { query: 'query A { __typename }', operationName: 'Nope' }],
    ])('%s is a 400', async (_what, body) => {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(codesOf(res as GraphQLResponse)).not.toContain('INTERNAL_SERVER_ERROR');
      expect(res.errors?.[0]?.message).toMatch(/operation/i);
    });
  });

  describe('6. subscriptions over HTTP', () => {
    it('are refused with a 4xx that points to WebSocket', async () => {
      const res = await post(
        { query: 'subscription { notificationAdded { id } }' },
        { authorization: `Bearer ${tokens.student}` },
      );
      expect(res.status).toBe(400);
      expect(codesOf(res as GraphQLResponse)).toEqual(['BAD_REQUEST']);
      expect(res.errors?.[0]?.message).toMatch(/WebSocket/);
    });
  });

  describe('7. automatic persisted query mistakes', () => {
    const query = '{ __typename }';
    const sha = createHash('sha256').update(query).digest('hex');
    it.each([
      [
        'a hash that does not match the query',
        { query, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } },
      ],
      ['an unsupported version', { query, extensions: { persistedQuery: { version: 2, sha256Hash: sha } } }],
      ['a persistedQuery that is not an object', { query, extensions: { persistedQuery: 'yes' } }],
      ['a persistedQuery without a hash', { extensions: { persistedQuery: { version: 1 } } }],
    ])('%s is a 400 BAD_REQUEST with its message', async (_what, body) => {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(codesOf(res as GraphQLResponse)).toEqual(['BAD_REQUEST']);
      expect(res.errors?.[0]?.message).not.toBe('Internal server error');
    });
  });

  describe('8. variables named like Object.prototype members', () => {
    it('absent and explicit null are different cache keys', async () => {
      const query = `query($toString: Int) { courses(first: $toString) { totalCount } }`;
      const send = async (body: object) =>
        (
          await fetch(t.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query, ...body }),
          })
        ).headers.get('x-cache');
      expect(await send({ variables: { toString: 1 } })).toBe('MISS');
      expect(await send({ variables: {} })).toBe('MISS');
      // Stored in the background: wait until the absent variable's entry is served.
      await vi.waitFor(
        async () => {
          const outcome = await send({ variables: {} });
          expect(outcome).toBe('HIT');
          return outcome;
        },
        { timeout: 20_000, interval: 50 },
      );
      // Absent and null are different requests: each is its own miss (it was a HIT on the
      // absent one's entry, Object.prototype.toString standing in for the missing variable).
      expect(await send({ variables: { toString: null } })).toBe('MISS');
      await vi.waitFor(
        async () => {
          const outcome = await send({ variables: { toString: null } });
          expect(outcome).toBe('HIT');
          return outcome;
        },
        { timeout: 20_000, interval: 50 },
      );
    });
  });

  describe('found by the fuzz test', () => {
    it("graphql-js's 'too many errors processing variables' is BAD_USER_INPUT, like the 50 before it", async () => {
      const res = await post({
        query: 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }',
        variables: { ids: Array.from({ length: 60 }, () => null) },
      });
      expect(res.status).toBe(400);
      expect(new Set(codesOf(res as GraphQLResponse))).toEqual(new Set(['BAD_USER_INPUT']));
    });
  });

  describe('9. an instructor demoted to STUDENT', () => {
    it('no longer reads the old course roster or lesson content', async () => {
      const teacher = await t.make.user({ role: 'INSTRUCTOR' });
      const own = await t.make.course(teacher.id, { status: 'PUBLISHED' });
      const lesson = await t.make.lesson(own.id, { content: 'secret notes' });
      await t.make.enrollment(student.id, own.id);
      const q = `query($c: ID!, $l: ID!) { course(id: $c) { enrollments { edges { node { student { displayName } } } } } lesson(id: $l) { content } }`;
      const variables = { c: gid('Course', own.id), l: gid('Lesson', lesson.id) };
      const before = await post({ query: q, variables }, { authorization: `Bearer ${await t.tokenFor(teacher)}` });
      expect(before.errors).toBeUndefined();

      const res = await post(
        {
          query: `mutation($i: SetUserRoleInput!) { setUserRole(input: $i) { role } }`,
          variables: { i: { userId: gid('User', teacher.id), role: 'STUDENT' } },
        },
        { authorization: `Bearer ${tokens.admin}` },
      );
      expect(res.errors).toBeUndefined();
      const fresh = await t.tokenFor({ id: teacher.id, role: 'STUDENT' });
      const after = await post({ query: q, variables }, { authorization: `Bearer ${fresh}` });
      expect(after.data).toEqual({ course: { enrollments: null }, lesson: { content: null } });
      expect(codesOf(after as GraphQLResponse)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    });
  });
});
