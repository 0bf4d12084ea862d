import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Queries run compiled by graphql-jit (graphql/jit-executor.ts). Two instances on one
 * database, one executing everything with graphql-js (GRAPHQL_JIT_AFTER=0) and one compiling
 * every query on first sight (=1), must answer every request identically: data, errors
 * (codes, messages, paths, locations) and HTTP status, for every kind of viewer. (The whole
 * suite also passes with TEST_GRAPHQL_JIT_AFTER=1.)
 */
describe('graphql-jit executes queries exactly as graphql-js', () => {
  let js: TestApp;
  let jit: TestApp;
  const tokens: Record<string, string | undefined> = { anonymous: undefined };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    js = await startTestApp({ GRAPHQL_JIT_AFTER: '0', CACHE_ENABLED: 'false' });
    jit = await startTestApp({ GRAPHQL_JIT_AFTER: '1', CACHE_ENABLED: 'false', DATABASE_URL: js.databaseUrl });
    const instructor = await js.make.user({ role: 'INSTRUCTOR', displayName: 'Ines Instructor' });
    const student = await js.make.user({ role: 'STUDENT', displayName: 'Stu Dent' });
    const admin = await js.make.user({ role: 'ADMIN' });
    const published = await js.make.course(instructor.id, { title: 'Algebra', priceCents: 1200 });
    const other = await js.make.course(instructor.id, { title: 'Botany' });
    const draft = await js.make.course(instructor.id, { title: 'Draft', status: 'DRAFT' });
    for (const [i, course] of [published, published, other, draft].entries())
      await js.make.lesson(course.id, { title: `Lesson ${i}`, position: i, status: i % 2 ? 'SCHEDULED' : 'COMPLETED' });
    await js.make.enrollment(student.id, published.id);
    Object.assign(ids, {
      instructor: gid('User', instructor.id),
      student: gid('User', student.id),
      published: gid('Course', published.id),
      draft: gid('Course', draft.id),
    });
    tokens.student = await js.tokenFor(student);
    tokens.instructor = await js.tokenFor(instructor);
    tokens.admin = await js.tokenFor(admin);
  });
  afterAll(async () => {
    await jit?.close();
    await js?.close();
  });

  const queries: Array<[name: string, query: string, variables?: () => Record<string, unknown>]> = [
    [
      'the catalog, nested connections, cursors and page info',
      `{ courses(first: 5, orderBy: { field: TITLE, direction: ASC }) {
          totalCount
          edges { cursor node { id title priceCents status createdAt instructor { displayName }
            lessonCount lessons(first: 3) { totalCount edges { node { title status position content } }
              pageInfo { hasNextPage endCursor } } } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
    ],
    [
      'node and nodes through the Node interface, fragments, __typename, aliases',
      `query($ids: [ID!]!, $c: ID!) {
          nodes(ids: $ids) { __typename id ... on User { displayName } ...C }
          one: node(id: $c) { __typename ...C }
        }
        fragment C on Course { title viewerEnrollment { status } }`,
      () => ({ ids: [ids.instructor, ids.published, ids.draft, ids.student], c: ids.published }),
    ],
    [
      '@include and @skip from variables',
      `query($on: Boolean!) { courses(first: 2) { edges { node { title @include(if: $on) slug @skip(if: $on) } } } }`,
      () => ({ on: true }),
    ],
    [
      'guarded fields: FORBIDDEN at their path, the rest of the data intact',
      `query($u: ID!, $c: ID!) { user(id: $u) { displayName email } course(id: $c) { title enrollments(first: 5) { totalCount } } }`,
      () => ({ u: ids.student, c: ids.published }),
    ],
    ['me', `{ me { displayName role } }`],
    [
      'an invalid variable: BAD_USER_INPUT, HTTP 400',
      `query($n: Int) { courses(first: $n) { totalCount } }`,
      () => ({ n: 'many' }),
    ],
    [
      'an argument a resolver refuses: BAD_USER_INPUT naming it',
      `query($n: Int) { courses(first: $n) { totalCount } }`,
      () => ({ n: 1000 }),
    ],
    [
      'a variable named __proto__ (an own property of the request body, as JSON.parse reads it)',
      `query($__proto__: Int) { courses(first: $__proto__, orderBy: { field: TITLE, direction: ASC }) { edges { node { title } } } }`,
      () => JSON.parse('{"__proto__": 1}') as Record<string, unknown>,
    ],
    [
      'a list variable named __proto__ and one named constructor',
      `query($__proto__: [ID!]!, $constructor: ID!) { nodes(ids: $__proto__) { id } node(id: $constructor) { id } }`,
      () =>
        JSON.parse(`{"__proto__": ["${ids.published}"], "constructor": "${ids.published}"}`) as Record<string, unknown>,
    ],
    [
      'a variable named like an Object.prototype member, absent',
      `query($toString: Int) { courses(first: $toString) { totalCount } }`,
      () => ({}),
    ],
  ];

  for (const viewer of ['anonymous', 'student', 'instructor', 'admin']) {
    it.each(queries)(`as ${viewer}: %s`, async (_name, query, variables) => {
      const vars = variables?.();
      const options = { token: tokens[viewer] };
      const expected = await js.gql(query, vars, options);
      // Something to compare: data, or errors (the refusals).
      expect(expected.data ?? expected.errors).toBeTruthy();
      // Twice: the first compiles, the second runs what is cached.
      for (let i = 0; i < 2; i++) {
        const actual = await jit.gql(query, vars, options);
        expect({ status: actual.status, data: actual.data, errors: actual.errors }).toEqual({
          status: expected.status,
          data: expected.data,
          errors: expected.errors,
        });
      }
    });
  }

  it('compiled the queries on the JIT instance and none on the graphql-js one', async () => {
    const count = async (t: TestApp) =>
      (await t.app.metrics.jitCompilations.get()).values.find((v) => v.labels.outcome === 'compiled')?.value ?? 0;
    // One compilation per distinct document (two cases share one), whoever sent it.
    expect(await count(jit)).toBe(new Set(queries.map(([, query]) => query)).size);
    expect(await count(js)).toBe(0);
  });
});
