import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { LOGOUT, newAccount, REGISTER } from '../helpers/accounts.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CATALOG = `query Catalog($first: Int) { courses(first: $first) { edges { node { title status
  instructor { displayName } lessons(first: 3) { edges { node { title status } } } } } } }`;

/**
 * The HTTP hot path (src/http/graphql-handler.ts): a request body already seen as a cacheable
 * query is answered from the response cache before Apollo parses it. These tests hold it to
 * everything a hit through Apollo does: same bytes and headers, the caller's own scope, token
 * and revocation checks, the cost budget, the access-log line, and never a stale entry.
 */
describe('cache hits answered before Apollo', () => {
  let t: TestApp;
  let instructor: UserRow;
  let draft: CourseRow;
  let published: CourseRow;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    // A budget small enough to run out within the test (the catalog query costs a few dozen).
    t = await startTestApp({ COST_BUDGET_PER_MINUTE: '100000' }, { log: pino({ level: 'info' }, sink) });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    published = await t.make.course(instructor.id, { title: 'Published course' });
    await t.make.lesson(published.id, { title: 'Lesson one' });
    draft = await t.make.course(instructor.id, { title: 'Instructor draft', status: 'DRAFT' });
  });
  afterAll(() => t?.close());

  const early = () => t.app.responseCache.stats.earlyHits;

  const post = async (body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const catalogBody = (first: number, spacing = '') =>
    `{"query":${JSON.stringify(CATALOG)},${spacing}"variables":{"first":${first}}}`;

  /** The instructor renames a course (a write that invalidates the catalog's entries). */
  const renameCourse = async (course: CourseRow, title: string) => {
    const renamed = await post(
      JSON.stringify({
        query: `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { title } }`,
        variables: { input: { id: gid('Course', course.id), title } },
      }),
      { authorization: `Bearer ${await t.tokenFor(instructor)}` },
    );
    expect(JSON.parse(renamed.text).errors).toBeUndefined();
  };

  /** The response headers that must not depend on which path answered. */
  const headersOf = (h: Headers) =>
    Object.fromEntries(
      [...h].filter(([name]) => !['date', 'x-request-id', 'content-length', 'keep-alive', 'connection'].includes(name)),
    );

  it('answers the second identical body before Apollo, with the bytes and headers Apollo writes for a hit', async () => {
    const body = catalogBody(5);
    const miss = await post(body);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    const before = early();
    const hit = await post(body);
    expect(early()).toBe(before + 1);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    // The same request with different whitespace is a new body: Apollo answers it, from the cache.
    const viaApollo = await post(catalogBody(5, ' '));
    expect(early()).toBe(before + 1);
    expect(viaApollo.headers.get('x-cache')).toBe('HIT');
    const data = (text: string) => text.slice(0, text.indexOf(',"extensions":'));
    expect(data(hit.text)).toBe(data(viaApollo.text));
    expect(data(hit.text)).toBe(data(miss.text));
    expect(JSON.parse(hit.text).data.courses.edges.map((e: any) => e.node.title)).toContain('Published course');
    expect(headersOf(hit.headers)).toEqual(headersOf(viaApollo.headers));
    // Security headers and the public cache policy of an anonymous catalog read.
    expect(hit.headers.get('x-content-type-options')).toBe('nosniff');
    expect(hit.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect(hit.headers.get('cache-control')).toBe('public, max-age=60');
    expect(hit.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('echoes a well-formed X-Request-ID, answers CORS for an allowed origin and refuses to mark others', async () => {
    const body = catalogBody(6);
    await post(body);
    const before = early();
    const allowed = await post(body, { origin: 'http://localhost:3000', 'x-request-id': 'req-hot-1' });
    const foreign = await post(body, { origin: 'https://evil.example' });
    expect(early()).toBe(before + 2);
    expect(allowed.headers.get('x-request-id')).toBe('req-hot-1');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('X-Cache');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('negotiates the response type as Apollo does, and leaves what it cannot serve to Apollo', async () => {
    const body = catalogBody(7);
    await post(body);
    const before = early();
    const modern = await post(body, { accept: 'application/graphql-response+json' });
    expect(modern.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(early()).toBe(before + 1);
    const html = await post(body, { accept: 'text/html' });
    expect(html.status).toBe(406);
    expect(early()).toBe(before + 1);
  });

  it("keeps each viewer's scope: an instructor's entry (with a draft) never reaches a student with the same body", async () => {
    const body = catalogBody(20);
    const teacherToken = await t.tokenFor(instructor);
    const student = await t.make.user();
    const studentToken = await t.tokenFor(student);
    const titles = (text: string) =>
      (JSON.parse(text).data.courses.edges as Array<{ node: { title: string } }>).map((e) => e.node.title);
    await post(body, { authorization: `Bearer ${teacherToken}` });
    const before = early();
    const teacher = await post(body, { authorization: `Bearer ${teacherToken}` });
    expect(early()).toBe(before + 1);
    expect(titles(teacher.text)).toContain(draft.title);
    expect(teacher.headers.get('cache-control')).toBe('no-store');
    const first = await post(body, { authorization: `Bearer ${studentToken}` });
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(titles(first.text)).not.toContain(draft.title);
    const again = await post(body, { authorization: `Bearer ${studentToken}` });
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(titles(again.text)).not.toContain(draft.title);
    // And anonymous callers get the anonymous entry.
    expect(titles((await post(body)).text)).not.toContain(draft.title);
  });

  it('refuses a bad or revoked token exactly as Apollo does (401), never serving the entry', async () => {
    const reg = await post(JSON.stringify({ query: REGISTER, variables: { input: newAccount() } }));
    const session = JSON.parse(reg.text).data.register as { accessToken: string; refreshToken: string };
    const body = catalogBody(8);
    const auth = { authorization: `Bearer ${session.accessToken}` };
    await post(body, auth);
    const before = early();
    expect((await post(body, auth)).headers.get('x-cache')).toBe('HIT');
    expect(early()).toBe(before + 1);
    await post(JSON.stringify({ query: LOGOUT, variables: { t: session.refreshToken } }), auth);
    const revoked = await post(body, auth);
    expect(revoked.status).toBe(401);
    expect(JSON.parse(revoked.text).errors[0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'TOKEN_REVOKED',
    });
    const forged = await post(body, { authorization: 'Bearer not.a.token' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('invalid_token');
    expect(early()).toBe(before + 1);
  });

  it('writes the access-log line and the operation metrics for an early hit', async () => {
    const body = catalogBody(10);
    await post(body);
    const before = early();
    await post(body, { 'x-request-id': 'req-hot-log' });
    expect(early()).toBe(before + 1);
    const line = logLines.find((l) => l.requestId === 'req-hot-log');
    expect(line).toMatchObject({ msg: 'graphql request', operationName: 'Catalog', cache: 'HIT', status: 200 });
    expect(line?.cost).toBeGreaterThan(0);
    const metrics = await t.app.metrics.registry.getSingleMetricAsString('eduflow_graphql_operation_duration_seconds');
    expect(metrics).toMatch(/operation_duration_seconds_count\{operation="Catalog",type="query"\} \d+/);
  });

  it('is never stale: a write invalidates, and the next early lookup misses and runs the query', async () => {
    const body = catalogBody(11);
    const teacherToken = await t.tokenFor(instructor);
    await post(body);
    expect((await post(body)).headers.get('x-cache')).toBe('HIT');
    const rename = `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { title } }`;
    const courses = JSON.parse((await post(body)).text).data.courses.edges as Array<{ node: { title: string } }>;
    expect(courses.map((c) => c.node.title)).toContain('Published course');
    const renamed = await post(
      JSON.stringify({
        query: rename,
        variables: { input: { id: gid('Course', published.id), title: 'Renamed course' } },
      }),
      { authorization: `Bearer ${teacherToken}` },
    );
    expect(JSON.parse(renamed.text).errors).toBeUndefined();
    const after = await post(body);
    expect(after.headers.get('x-cache')).toBe('MISS');
    const titles = (JSON.parse(after.text).data.courses.edges as Array<{ node: { title: string } }>).map(
      (c) => c.node.title,
    );
    expect(titles).toContain('Renamed course');
    expect(titles).not.toContain('Published course');
  });

  it('serves a record held in the process only while Redis holds the same one: replaced behind it, the new one goes out', async () => {
    const course = await t.make.course(instructor.id, { title: 'Held course' });
    const body = catalogBody(14);
    await post(body); // MISS through Apollo: the body is remembered
    const before = early();
    for (let i = 0; i < 2; i++) {
      const hit = await post(body); // the first early hit reads the record and holds it; the second serves the held copy
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.text).toContain('Held course');
    }
    expect(early()).toBe(before + 2);
    await renameCourse(course, 'Replaced course');
    // Other bytes, the same entry: Apollo runs it and stores the new record under the held one's
    // key (as another instance would), without the early path seeing it.
    expect((await post(catalogBody(14, ' '))).headers.get('x-cache')).toBe('MISS');
    const after = await post(body);
    expect(early()).toBe(before + 3);
    expect(after.headers.get('x-cache')).toBe('HIT');
    expect(after.text).toContain('Replaced course');
    expect(after.text).not.toContain('Held course');
  });

  it('answers 304 to If-None-Match for an unchanged hit, on both paths, and 200 with a new ETag once a write changed it', async () => {
    const course = await t.make.course(instructor.id, { title: 'Validated course' });
    const body = catalogBody(12);
    const miss = await post(body);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    const etag = miss.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const hit = await post(body);
    expect(hit.headers.get('etag')).toBe(etag);
    const before = early();
    const unchanged = await post(body, { 'if-none-match': etag });
    expect(early()).toBe(before + 1);
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe('');
    expect(unchanged.headers.get('etag')).toBe(etag);
    expect(unchanged.headers.get('cache-control')).toBe('public, max-age=60');
    // Through Apollo (other bytes, the same entry), and in a list of validators.
    const viaApollo = await post(catalogBody(12, ' '), { 'if-none-match': `"other", W/${etag}` });
    expect(early()).toBe(before + 1);
    expect(viaApollo.status).toBe(304);
    expect(viaApollo.text).toBe('');
    // A write: the validator no longer matches; the new data comes with a new one.
    await renameCourse(course, 'Revalidated course');
    const changed = await post(body, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.text).toContain('Revalidated course');
    const next = changed.headers.get('etag')!;
    expect(next).not.toBe(etag);
    expect((await post(body, { 'if-none-match': etag })).status).toBe(200); // early hit, old validator
    expect((await post(body, { 'if-none-match': next })).status).toBe(304);
  });

  it('never answers 304 across scopes: a validator from another caller, even for the same data, gets the full answer', async () => {
    const body = catalogBody(13);
    const [one, two] = [await t.make.user(), await t.make.user()];
    const auth = async (u: UserRow) => ({ authorization: `Bearer ${await t.tokenFor(u)}` });
    const [oneAuth, twoAuth, teacherAuth] = [await auth(one), await auth(two), await auth(instructor)];
    const anonymous = await post(body);
    const anonymousTag = anonymous.headers.get('etag')!;
    const data = (text: string) => JSON.parse(text).data;
    for (let round = 0; round < 2; round++) {
      // Round 0 through Apollo (first sight of each scope), round 1 as early hits.
      const mine = await post(body, { ...oneAuth, 'if-none-match': anonymousTag });
      expect(mine.status).toBe(200);
      expect(data(mine.text)).toEqual(data(anonymous.text)); // the same data, another scope
      const oneTag = mine.headers.get('etag')!;
      expect(oneTag).not.toBe(anonymousTag);
      for (const [headers, tag] of [
        [twoAuth, oneTag],
        [teacherAuth, oneTag],
        [{}, oneTag],
        [teacherAuth, anonymousTag],
      ] as const) {
        const other = await post(body, { ...headers, 'if-none-match': tag });
        expect(other.status).toBe(200);
        expect(other.headers.get('etag')).not.toBe(tag);
        expect(data(other.text).courses.edges.length).toBeGreaterThan(0);
      }
      expect((await post(body, { ...oneAuth, 'if-none-match': oneTag })).status).toBe(304);
    }
  });

  it('spends the cost budget on every early hit and reports it, then answers 429 with Retry-After', async () => {
    const body = catalogBody(9);
    const cost = (text: string) => JSON.parse(text).extensions.cost as { requested: number; remaining: number };
    const first = cost((await post(body)).text);
    const second = cost((await post(body)).text);
    expect(second.requested).toBe(first.requested);
    expect(second.remaining).toBe(first.remaining - first.requested);
    // Spend the rest of this address's budget through the hot path.
    let last = await post(body);
    for (let i = 0; i < 100_000 / first.requested + 2 && last.status === 200; i++) last = await post(body);
    expect(last.status).toBe(429);
    expect(JSON.parse(last.text).errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

/** A logger at level info whose JSON lines are pushed to `lines`. */
function loggerInto(lines: Array<Record<string, unknown>>) {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

/** POSTs a JSON body to the app's /graphql. */
async function postTo(t: TestApp, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A gauge's value from the app's metrics registry. */
async function gaugeOf(t: TestApp, name: string): Promise<number> {
  return Number(/ (\d+)$/m.exec(await t.app.metrics.registry.getSingleMetricAsString(name))![1]);
}

/** Response headers that must not depend on which path answered. */
const sameOnBothPaths = (h: Headers) =>
  Object.fromEntries([...h].filter(([name]) => !['date', 'x-request-id', 'content-length'].includes(name)));

/** An answer's body apart from its extensions (the cost report, which differs per request). */
const withoutCost = (text: string) => {
  const { extensions, ...rest } = JSON.parse(text);
  return { rest, extensions };
};

/**
 * Queries whose answer depends on their document alone (`{ __typename }`): the second identical
 * body is answered without Apollo's pipeline, and every per-request rule still applies.
 */
describe('constant answers before Apollo', () => {
  let t: TestApp;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    t = await startTestApp({ COST_BUDGET_PER_MINUTE: '1000' }, { log: loggerInto(logLines) });
  });
  afterAll(() => t?.close());

  const constants = () => gaugeOf(t, 'eduflow_http_constant_answers');
  const post = (body: string, headers: Record<string, string> = {}) => postTo(t, body, headers);
  const headersOf = sameOnBothPaths;

  it('answers the second identical body without Apollo, with the body and headers Apollo writes', async () => {
    const body = JSON.stringify({ query: 'query Ping { __typename again: __typename }' });
    const before = await constants();
    const viaApollo = await post(body);
    expect(await constants()).toBe(before);
    const direct = await post(body);
    expect(await constants()).toBe(before + 1);
    expect(direct.status).toBe(200);
    expect(withoutCost(direct.text).rest).toEqual({ data: { __typename: 'Query', again: 'Query' } });
    expect(withoutCost(direct.text).rest).toEqual(withoutCost(viaApollo.text).rest);
    expect(headersOf(direct.headers)).toEqual(headersOf(viaApollo.headers));
    expect(direct.headers.get('x-cache')).toBe('BYPASS');
    expect(direct.headers.get('cache-control')).toBe('no-store');
    // Each answer reports its own spend from the caller's budget, as Apollo's does.
    const [first, second] = [viaApollo, direct].map((r) => withoutCost(r.text).extensions.cost);
    expect(second.remaining).toBe(first.remaining - first.requested);
  });

  it('refuses a bad token (401) and an unacceptable type (406) as Apollo does, and spends the budget to 429', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    await post(body);
    const before = await constants();
    const forged = await post(body, { authorization: 'Bearer not.a.token' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('invalid_token');
    expect((await post(body, { accept: 'text/html' })).status).toBe(406);
    const modern = await post(body, { accept: 'application/graphql-response+json' });
    expect(modern.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(await constants()).toBe(before + 1);
    // A signed-in caller's own budget (an address's would run out for the other tests too).
    const auth = { authorization: `Bearer ${await t.tokenFor(await t.make.user())}` };
    let last = await post(body, auth);
    for (let i = 0; i < 1_100 && last.status === 200; i++) last = await post(body, auth);
    expect(await constants()).toBeGreaterThan(before + 2);
    expect(last.status).toBe(429);
    expect(JSON.parse(last.text).errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('writes the access-log line of every constant answer', async () => {
    const body = JSON.stringify({ query: 'query Logged { __typename }' });
    await post(body);
    const before = await constants();
    await post(body, { 'x-request-id': 'req-constant-log' });
    expect(await constants()).toBe(before + 1);
    const line = logLines.find((l) => l.requestId === 'req-constant-log');
    expect(line).toMatchObject({ msg: 'graphql request', operationName: 'Logged', cache: 'BYPASS', status: 200 });
  });

  it('leaves every other document to Apollo: a real field, a directive, a persisted query, an invalid one', async () => {
    const before = await constants();
    for (const body of [
      JSON.stringify({ query: '{ __typename courses(first: 1) { totalCount } }' }),
      JSON.stringify({ query: '{ __typename @include(if: true) }' }),
      JSON.stringify({
        query: '{ __typename }',
        extensions: {
          persistedQuery: { version: 1, sha256Hash: createHash('sha256').update('{ __typename }').digest('hex') },
        },
      }),
      JSON.stringify({ query: '{ __typename nope }' }),
      JSON.stringify({ query: 'mutation { __typename }' }),
    ])
      for (let i = 0; i < 2; i++) await post(body);
    expect(await constants()).toBe(before);
  });
});

/**
 * With the response cache off, a query Apollo answered with data and no error is executed again
 * without Apollo's pipeline (parse, validation, limits and the cost estimate depend on the
 * bytes alone): same bytes and headers, and every per-request rule still applies (token and
 * revocation, response type, budget, viewer, log line). Answers with errors are Apollo's.
 */
describe('known queries executed without Apollo', () => {
  let t: TestApp;
  let instructor: UserRow;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    t = await startTestApp({ CACHE_ENABLED: 'false', COST_BUDGET_PER_MINUTE: '100000' }, { log: loggerInto(logLines) });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(instructor.id, { title: 'Known course' });
    await t.make.lesson(course.id, { title: 'Known lesson' });
  });
  afterAll(() => t?.close());

  const known = () => gaugeOf(t, 'eduflow_http_known_queries');
  const post = (body: string, headers: Record<string, string> = {}) => postTo(t, body, headers);
  const headersOf = sameOnBothPaths;

  it('answers the second identical body with the bytes and headers Apollo writes, and its own cost report', async () => {
    const body = JSON.stringify({ query: CATALOG, variables: { first: 2 } });
    const before = await known();
    const viaApollo = await post(body);
    expect(await known()).toBe(before);
    const direct = await post(body);
    expect(await known()).toBe(before + 1);
    expect(direct.status).toBe(200);
    expect(JSON.stringify(withoutCost(direct.text).rest)).toBe(JSON.stringify(withoutCost(viaApollo.text).rest));
    expect(direct.text).toMatch(/^\{"data":\{"courses":.*"extensions":\{"cost":\{.*\}\}\}\n$/);
    expect(headersOf(direct.headers)).toEqual(headersOf(viaApollo.headers));
    expect([...direct.headers.keys()]).toEqual([...viaApollo.headers.keys()]);
    expect(direct.headers.get('x-cache')).toBe('BYPASS');
    const [first, second] = [viaApollo, direct].map((r) => withoutCost(r.text).extensions.cost);
    expect(second.requested).toBe(first.requested);
    expect(second.remaining).toBe(first.remaining - first.requested);
  });

  it("answers the catalog page (bench:cpu's P1) with Apollo's bytes, compiled or not", async () => {
    const query =
      '{ courses(first: 20) { edges { node { title instructor { displayName } lessons(first: 10) { edges { node { title status } } } } } } }';
    const before = await known();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post(JSON.stringify({ query })));
    expect(await known()).toBe(before + 3);
    const bodies = answers.map((a) => JSON.stringify(withoutCost(a.text).rest));
    expect(bodies[0]).toContain('Known lesson');
    for (const body of bodies.slice(1)) expect(body).toBe(bodies[0]);
    for (const a of answers.slice(1)) expect(sameOnBothPaths(a.headers)).toEqual(sameOnBothPaths(answers[0]!.headers));
  });

  it('answers each viewer with their own data, and refuses a bad token (401) or type (406) as Apollo does', async () => {
    const body = JSON.stringify({ query: '{ me { id displayName } }' });
    const [alice, bob] = [await t.make.user({ displayName: 'Alice' }), await t.make.user({ displayName: 'Bob' })];
    const as = async (user: UserRow) => post(body, { authorization: `Bearer ${await t.tokenFor(user)}` });
    await as(alice);
    const before = await known();
    expect(JSON.parse((await as(alice)).text).data.me.displayName).toBe('Alice');
    expect(JSON.parse((await as(bob)).text).data.me.displayName).toBe('Bob');
    expect(await known()).toBe(before + 2);
    const forged = await post(body, { authorization: 'Bearer not.a.token' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('invalid_token');
    expect((await post(body, { authorization: `Bearer ${await t.tokenFor(alice)}`, accept: 'text/html' })).status).toBe(
      406,
    );
    expect(await known()).toBe(before + 2);
  });

  it("hands the result to Apollo when a known query answers with errors: the status, body and log line are Apollo's", async () => {
    // Course stats are the course instructor's: the instructor's answer has data and no error
    // (remembered); an anonymous caller's, with the same bytes, has a FORBIDDEN error at its path.
    const query = '{ courses(first: 1) { edges { node { title stats { __typename } } } } }';
    const body = JSON.stringify({ query });
    const asInstructor = await post(body, { authorization: `Bearer ${await t.tokenFor(instructor)}` });
    expect(JSON.parse(asInstructor.text).errors).toBeUndefined();
    const viaApollo = await post(JSON.stringify({ query: `${query} ` }), { 'x-request-id': 'req-known-error-1' });
    expect(JSON.parse(viaApollo.text).errors).toBeDefined();
    const before = await known();
    const handedOver = await post(body, { 'x-request-id': 'req-known-error-2' });
    expect(await known()).toBe(before);
    expect(handedOver.status).toBe(viaApollo.status);
    expect(withoutCost(handedOver.text).rest).toEqual(withoutCost(viaApollo.text).rest);
    expect(headersOf(handedOver.headers)).toEqual(headersOf(viaApollo.headers));
    // Spent once: executed by the handler, formatted by Apollo.
    const [first, second] = [viaApollo, handedOver].map((r) => withoutCost(r.text).extensions.cost);
    expect(second.remaining).toBe(first.remaining - first.requested);
    const [a, b] = ['req-known-error-1', 'req-known-error-2'].map((id) => logLines.find((l) => l.requestId === id));
    const stable = ({ durationMs: _d, time: _t, requestId: _r, dbQueries: _q, ...rest }: Record<string, unknown>) =>
      rest;
    expect(stable(b!)).toEqual(stable(a!));
    expect(b).toMatchObject({ msg: 'graphql request', errors: ['FORBIDDEN'], cache: 'BYPASS' });
  });

  it('writes the access-log line of every known query, as Apollo does', async () => {
    const body = JSON.stringify({ query: 'query Logged { courses(first: 1) { totalCount } }' });
    await post(body, { 'x-request-id': 'req-known-log-1' });
    const before = await known();
    await post(body, { 'x-request-id': 'req-known-log-2' });
    expect(await known()).toBe(before + 1);
    const [a, b] = ['req-known-log-1', 'req-known-log-2'].map((id) => logLines.find((l) => l.requestId === id));
    const stable = ({ durationMs: _d, time: _t, requestId: _r, dbQueries: _q, ...rest }: Record<string, unknown>) =>
      rest;
    expect(stable(b!)).toEqual(stable(a!));
    expect(b).toMatchObject({
      msg: 'graphql request',
      operationName: 'Logged',
      operationType: 'query',
      cache: 'BYPASS',
    });
  });

  it('never takes a mutation, a persisted query or an invalid document', async () => {
    const before = await known();
    for (const body of [
      JSON.stringify({ query: 'mutation { logout(input: { refreshToken: "x" }) }' }),
      JSON.stringify({
        query: '{ __typename courses(first: 1) { totalCount } }',
        extensions: {
          persistedQuery: {
            version: 1,
            sha256Hash: createHash('sha256').update('{ __typename courses(first: 1) { totalCount } }').digest('hex'),
          },
        },
      }),
      JSON.stringify({ query: '{ courses(first: 1) { nope } }' }),
    ])
      for (let i = 0; i < 2; i++) await post(body);
    expect(await known()).toBe(before);
  });
});
