import { GraphQLInt } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DateTime } from '../../src/graphql/scalars.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const COUNT = `query Count($n: Int) { courses(first: $n) { totalCount edges { node { title } } } }`;

/** A request body sent as written: `1e999` is valid JSON, which JSON.stringify never writes. */
async function post(t: TestApp, body: string) {
  const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, cache: res.headers.get('x-cache'), body: (await res.json()) as any };
}

describe('variables are coerced once per request, and everything keys on the coerced values', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Compiled from the first execution on, with the response cache: every consumer of variables.
    t = await startTestApp({ GRAPHQL_JIT_AFTER: '1' });
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    for (const title of ['Algebra', 'Botany', 'Chemistry']) await t.make.course(instructor.id, { title });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('refuses {"n":1e999} with BAD_USER_INPUT although {"n":null} is cached', async () => {
    const fresh = await post(t, `{"query":${JSON.stringify(COUNT)},"variables":{"n":1e999}}`);
    expect(fresh.status).toBe(400);
    expect(codesOf({ ...fresh.body, status: 400, headers: new Headers() })).toEqual(['BAD_USER_INPUT']);
    const valid = `{"query":${JSON.stringify(COUNT)},"variables":{"n":null}}`;
    expect((await post(t, valid)).cache).toBe('MISS');
    expect((await post(t, valid)).cache).toBe('HIT');
    // Twice: through Apollo, then (were it remembered) through the early cache path.
    for (let i = 0; i < 2; i++) {
      const invalid = await post(t, `{"query":${JSON.stringify(COUNT)},"variables":{"n":1e999}}`);
      expect(invalid.status).toBe(400);
      expect(invalid.body.data).toBeUndefined();
      expect(invalid.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(invalid.body.errors[0].message).toMatch(/\$n/);
    }
  });

  it('shares one cache entry between spellings that coerce alike, and none between ones that do not', async () => {
    const a = await post(t, `{"query":${JSON.stringify(COUNT)},"variables":{"n":2}}`);
    const b = await post(t, `{"query":${JSON.stringify(COUNT)},"variables":{"n":2.0,"unused":"x"}}`);
    expect([a.cache, b.cache]).toEqual(['MISS', 'HIT']);
    expect(b.body.data).toEqual(a.body.data);
    const c = await post(t, `{"query":${JSON.stringify(COUNT)},"variables":{"n":1}}`);
    expect(c.cache).toBe('MISS');
    expect(c.body.data.courses.edges).toHaveLength(1);
  });

  it('coerces a query’s variables once per request: cost, cache key and compiled execution', async () => {
    const parse = vi.spyOn(GraphQLInt, 'parseValue');
    for (const n of [1, 2, 3]) {
      parse.mockClear();
      // Distinct values: every request misses and executes (the first one compiles).
      const res = await t.gql(`query Once($n: Int) { courses(first: $n) { edges { node { title } } } }`, { n });
      expect(res.data.courses.edges).toHaveLength(n);
      expect(parse).toHaveBeenCalledTimes(1);
    }
  });

  it('coerces a mutation’s variables once per request: cost and graphql-js execution', async () => {
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(instructor.id);
    const lesson = await t.make.lesson(course.id);
    const token = await t.tokenFor(instructor);
    // The schema's own DateTime (the directives' schema mapping builds its own copy of each type).
    const dateTime = t.app.schema.getType('DateTime') as typeof DateTime;
    const parse = vi.spyOn(dateTime, 'parseValue');
    const at = new Date(Date.now() + 86_400_000).toISOString();
    const res = await t.gql(
      `mutation($id: ID!, $at: DateTime!) { rescheduleLesson(id: $id, scheduledAt: $at) { scheduledAt } }`,
      { id: gid('Lesson', lesson.id), at },
      { token },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.rescheduleLesson.scheduledAt).toBe(at);
    expect(parse).toHaveBeenCalledTimes(1);
  });
});
