import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { LOGIN, REFRESH, userWithPassword } from '../helpers/accounts.js';
import { gid } from '../helpers/factories.js';
import { codesOf, graphqlClient, type GraphQLClient } from '../helpers/graphql-client.js';
import { startPrivateRedis } from '../helpers/services.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { TEST_JWT_SECRET } from '../helpers/env.js';
import { testRedisEnv } from '../helpers/redis-topology.js';
import { spawnApi } from '../helpers/spawn-api.js';
import { liveClient, subscribe } from '../helpers/ws-client.js';

const CATALOG = `query Catalog($first: Int) { courses(first: $first) { totalCount edges { node { id title enrollmentCount lessonCount
  instructor { displayName } lessons(first: 5) { edges { node { id title status } } } } } } }`;
const COURSE = `query One($id: ID!) { course(id: $id) { title enrollmentCount lessons(first: 10) { edges { node { id status } } } } }`;
const PASSWORD = 'correct horse battery staple';

/**
 * Two API processes on one database and one Redis, as behind a load balancer: A runs in the
 * test process (so its SQL statements can be counted), B is the real entry point in a process
 * of its own.
 */
describe('response cache', () => {
  let a: TestApp;
  let b: { url: string; gql: GraphQLClient; stop(): Promise<unknown> };
  let instructor: UserRow, student: UserRow, admin: UserRow;
  let instructorToken: string, studentToken: string, adminToken: string;
  let course: CourseRow;

  beforeAll(async () => {
    a = await startTestApp();
    const spawned = await spawnApi({
      DATABASE_URL: a.databaseUrl,
      ...testRedisEnv(),
      REDIS_KEY_PREFIX: a.redisPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      SEED_DEMO_DATA: 'false',
      NOTIFICATION_WORKER: 'off',
      COST_BUDGET_PER_MINUTE: '0',
    });
    b = { url: spawned.url, gql: graphqlClient(spawned.url), stop: spawned.stop };
    instructor = await userWithPassword(a, PASSWORD, 'INSTRUCTOR');
    student = await a.make.user();
    admin = await a.make.user({ role: 'ADMIN' });
    instructorToken = await a.tokenFor(instructor);
    studentToken = await a.tokenFor(student);
    adminToken = await a.tokenFor(admin);
    course = await a.make.course(instructor.id, { title: 'Cached course' });
    await a.make.lesson(course.id, { title: 'First lesson' });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.close();
  });

  const raw = async (client: GraphQLClient, query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const res = await client(query, variables, { token });
    return { ...res, cache: res.headers.get('x-cache'), cacheControl: res.headers.get('cache-control') };
  };

  it('serves a repeated anonymous catalog query from Redis without any SQL', async () => {
    const first = await a.countQueries(() => raw(a.gql, CATALOG, { first: 7 }));
    expect(first.result.cache).toBe('MISS');
    expect(first.statements).toBeGreaterThan(0);
    const second = await a.countQueries(() => raw(a.gql, CATALOG, { first: 7 }));
    expect(second.result.cache).toBe('HIT');
    expect(second.statements).toBe(0);
    expect(second.result.data).toEqual(first.result.data);
    expect(second.result.cacheControl).toBe('public, max-age=60');
    // The other process shares the entry.
    expect((await raw(b.gql, CATALOG, { first: 7 })).cache).toBe('HIT');
  });

  it('writes a hit as the stored bytes, the same bytes a miss wrote, with the cost report of its own', async () => {
    const post = async () => {
      const res = await fetch(a.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: CATALOG, variables: { first: 11 } }),
      });
      return { cache: res.headers.get('x-cache'), type: res.headers.get('content-type'), text: await res.text() };
    };
    const miss = await post();
    const hit = await post();
    expect([miss.cache, hit.cache]).toEqual(['MISS', 'HIT']);
    expect(hit.type).toBe(miss.type);
    // Apollo's own layout: JSON.stringify of { data, extensions } and a newline.
    expect(hit.text).toBe(JSON.stringify(JSON.parse(hit.text)) + '\n');
    const dataOf = (text: string) => text.slice(0, text.indexOf(',"extensions":'));
    expect(dataOf(hit.text).length).toBeGreaterThan(100);
    expect(dataOf(hit.text)).toBe(dataOf(miss.text));
    // The budget is still spent on a hit, and reported.
    const cost = (text: string) =>
      (JSON.parse(text) as { extensions: { cost: { requested: number; remaining: number } } }).extensions.cost;
    expect(cost(hit.text).requested).toBe(cost(miss.text).requested);
    expect(cost(hit.text).remaining).toBeLessThan(cost(miss.text).remaining);
  });

  it('keys by the normalized document and variables', async () => {
    await raw(a.gql, CATALOG, { first: 3 });
    const reformatted = CATALOG.replace(/\s+/g, '  ');
    expect((await raw(a.gql, reformatted, { first: 3 })).cache).toBe('HIT');
    expect((await raw(a.gql, CATALOG, { first: 4 })).cache).toBe('MISS');
  });

  it('does not cache what the schema says must not be cached', async () => {
    const node = await raw(a.gql, `query($id: ID!) { node(id: $id) { id } }`, { id: gid('Course', course.id) });
    expect(node.cache).toBe('BYPASS');
    expect(node.cacheControl).toBe('no-store');
    const inbox = await raw(a.gql, `{ me { notifications(first: 1) { totalCount } } }`, {}, studentToken);
    expect(inbox.cache).toBe('BYPASS');
    const mutation = await raw(
      a.gql,
      `mutation { updateProfile(input: { displayName: "Same" }) { id } }`,
      {},
      studentToken,
    );
    expect(mutation.cache).toBeNull();
  });

  describe('never stale: a write on one instance is seen by the next read on the other', () => {
    it('course title', async () => {
      const id = gid('Course', course.id);
      await raw(a.gql, COURSE, { id });
      expect((await raw(a.gql, COURSE, { id })).cache).toBe('HIT');
      const update = await raw(
        b.gql,
        `mutation($id: ID!) { updateCourse(input: { id: $id, title: "Renamed course" }) { title } }`,
        { id },
        instructorToken,
      );
      expect(update.errors).toBeUndefined();
      const after = await raw(a.gql, COURSE, { id });
      expect(after.cache).toBe('MISS');
      expect(after.data.course.title).toBe('Renamed course');
    });

    it('lesson status after a lifecycle mutation', async () => {
      const lesson = await a.make.lesson(course.id, { title: 'To start' });
      const id = gid('Course', course.id);
      const before = await raw(a.gql, COURSE, { id });
      expect(before.data.course.lessons.edges.find((e: any) => e.node.id === gid('Lesson', lesson.id))).toBeUndefined(); // made behind the API's back
      // The factory wrote straight to the database; a mutation through the API invalidates.
      await raw(
        b.gql,
        `mutation($id: ID!) { startLesson(id: $id) { status } }`,
        { id: gid('Lesson', lesson.id) },
        instructorToken,
      );
      const after = await raw(a.gql, COURSE, { id });
      expect(
        after.data.course.lessons.edges.find((e: any) => e.node.id === gid('Lesson', lesson.id))?.node.status,
      ).toBe('IN_PROGRESS');
    });

    it('enrollment count after enroll', async () => {
      const id = gid('Course', course.id);
      const before = (await raw(a.gql, COURSE, { id })).data.course.enrollmentCount;
      expect((await raw(a.gql, COURSE, { id })).cache).toBe('HIT');
      const enrolled = await raw(
        b.gql,
        `mutation($c: ID!) { enroll(courseId: $c) { status } }`,
        { c: id },
        studentToken,
      );
      expect(enrolled.errors).toBeUndefined();
      expect((await raw(a.gql, COURSE, { id })).data.course.enrollmentCount).toBe(before + 1);
    });
  });

  describe('found in review: writes whose effect reaches beyond the entity written', () => {
    it('hides a cached lesson once its course is archived', async () => {
      const own = await a.make.course(instructor.id, { title: 'Soon archived' });
      const lesson = await a.make.lesson(own.id, { title: 'Visible for now' });
      const q = `query($id: ID!) { lesson(id: $id) { title } }`;
      const id = gid('Lesson', lesson.id);
      await raw(a.gql, q, { id });
      expect((await raw(a.gql, q, { id })).cache).toBe('HIT');
      await raw(
        b.gql,
        `mutation($id: ID!) { archiveCourse(id: $id) { status } }`,
        { id: gid('Course', own.id) },
        instructorToken,
      );
      expect((await raw(a.gql, q, { id })).data.lesson).toBeNull();
    });

    it('drops a cached "not found" when the object appears', async () => {
      const draft = await a.make.course(instructor.id, { status: 'DRAFT', title: 'Draft to publish' });
      const q = `query($id: ID!) { course(id: $id) { title } }`;
      const id = gid('Course', draft.id);
      await raw(a.gql, q, { id });
      const cachedNull = await raw(a.gql, q, { id });
      expect(cachedNull.cache).toBe('HIT');
      expect(cachedNull.data.course).toBeNull();
      await raw(b.gql, `mutation($id: ID!) { publishCourse(id: $id) { status } }`, { id }, instructorToken);
      expect((await raw(a.gql, q, { id })).data.course).toEqual({ title: 'Draft to publish' });
    });

    it('reorders cached lists when a course is renamed', async () => {
      const q = `{ courses(first: 1, orderBy: { field: TITLE, direction: ASC }) { edges { node { title } } } }`;
      await raw(a.gql, q);
      expect((await raw(a.gql, q)).cache).toBe('HIT');
      const renamed = await a.make.course(instructor.id, { title: 'Zzz last' });
      const rename = await raw(
        b.gql,
        `mutation($id: ID!) { updateCourse(input: { id: $id, title: "AAA first" }) { title } }`,
        { id: gid('Course', renamed.id) },
        instructorToken,
      );
      expect(rename.errors).toBeUndefined();
      expect((await raw(a.gql, q)).data.courses.edges[0].node.title).toBe('AAA first');
    });

    it('shows a cached enrollment cancelled after unenroll', async () => {
      const s = await a.make.user();
      const sToken = await a.tokenFor(s);
      const c = gid('Course', course.id);
      const enrolled = await raw(a.gql, `mutation($c: ID!) { enroll(courseId: $c) { id } }`, { c }, sToken);
      const q = `query($id: ID!) { enrollment(id: $id) { status } }`;
      const id = enrolled.data.enroll.id;
      await raw(a.gql, q, { id }, adminToken);
      expect((await raw(a.gql, q, { id }, adminToken)).cache).toBe('HIT');
      await raw(b.gql, `mutation($c: ID!) { unenroll(courseId: $c) { id } }`, { c }, sToken);
      expect((await raw(a.gql, q, { id }, adminToken)).data.enrollment.status).toBe('CANCELLED');
    });

    it('invalidates after a mutation sent over the WebSocket too', async () => {
      const id = gid('Course', course.id);
      await raw(a.gql, COURSE, { id });
      expect((await raw(a.gql, COURSE, { id })).cache).toBe('HIT');
      const socket = liveClient(b.url, { authorization: `Bearer ${instructorToken}` });
      try {
        const sub = subscribe(
          socket,
          `mutation($id: ID!) { updateCourse(input: { id: $id, title: "Renamed over the socket" }) { title } }`,
          { id },
        );
        expect((await sub.next()).data.updateCourse.title).toBe('Renamed over the socket');
      } finally {
        await socket.dispose();
      }
      expect((await raw(a.gql, COURSE, { id })).data.course.title).toBe('Renamed over the socket');
    });

    it('does not flush the cache for a refused mutation, nor grow it with undeclared variables', async () => {
      await raw(a.gql, CATALOG, { first: 9 });
      expect((await raw(a.gql, CATALOG, { first: 9 })).cache).toBe('HIT');
      const refused = await raw(a.gql, `mutation($id: ID!) { publishCourse(id: $id) { id } }`, {
        id: gid('Course', course.id),
      });
      expect(codesOf(refused)).toEqual(['UNAUTHENTICATED']);
      expect((await raw(a.gql, CATALOG, { first: 9 })).cache).toBe('HIT');
      expect((await raw(a.gql, CATALOG, { first: 9, junk: 'x1' })).cache).toBe('HIT');
    });
  });

  it('never hands one user another user’s private data, under concurrent load', async () => {
    const users = await Promise.all(Array.from({ length: 8 }, () => a.make.user()));
    const tokens = await Promise.all(users.map((u) => a.tokenFor(u)));
    const q = `{ me { id email displayName } courses(first: 5) { edges { node { id viewerEnrollment { id } } } } }`;
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, round) =>
        users.map((u, i) => raw(round % 2 ? b.gql : a.gql, q, {}, tokens[i]).then((r) => ({ u, r }))),
      ).flat(),
    );
    for (const { u, r } of responses) {
      expect(r.data.me).toEqual({ id: gid('User', u.id), email: u.email, displayName: u.displayName });
      expect(r.cacheControl).toBe('no-store');
    }
    expect(responses.filter(({ r }) => r.cache === 'HIT').length).toBeGreaterThan(0);
  });

  it('gives anonymous callers no guarded field, even after a member cached the same query', async () => {
    const member = await a.make.user();
    await a.make.enrollment(member.id, course.id);
    const lesson = await a.make.lesson(course.id, { title: 'Guarded', content: 'Members only' });
    const q = `query($id: ID!) { lesson(id: $id) { title content } }`;
    const id = gid('Lesson', lesson.id);
    const memberToken = await a.tokenFor(member);
    await raw(a.gql, q, { id }, memberToken);
    const memberHit = await raw(a.gql, q, { id }, memberToken);
    expect(memberHit.data.lesson.content).toBe('Members only');
    const anonymous = await raw(a.gql, q, { id });
    expect(anonymous.data.lesson).toEqual({ title: 'Guarded', content: null });
    expect(codesOf(anonymous)).toEqual(['FORBIDDEN']);
    expect(anonymous.cache).not.toBe('HIT');
    const other = await raw(a.gql, q, { id }, await a.tokenFor(await a.make.user()));
    expect(other.data.lesson.content).toBeNull();
  });

  it('refuses a forged token naming another user, and serves it nothing cached', async () => {
    const q = `{ me { id email } }`;
    await raw(a.gql, q, {}, studentToken);
    expect((await raw(a.gql, q, {}, studentToken)).cache).toBe('HIT');
    const forged = await new SignJWT({ role: 'STUDENT', sid: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(student.id)
      .setIssuer('eduflow')
      .setAudience('eduflow-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('another-secret-that-is-long-enough-0123456789'));
    const res = await raw(a.gql, q, {}, forged);
    expect(res.status).toBe(401);
    expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.data ?? null).toBeNull();
    expect(res.cache).toBeNull();
  });

  it('changes what a user gets when their profile or role changes, or they log out', async () => {
    const login = await a.gql(LOGIN, { input: { email: instructor.email, password: PASSWORD } });
    const { accessToken, refreshToken } = login.data.login;
    const q = `{ me { role displayName } courses(first: 20) { totalCount } }`;
    await raw(a.gql, q, {}, accessToken);
    const cached = await raw(a.gql, q, {}, accessToken);
    expect(cached.cache).toBe('HIT');
    expect(cached.data.me.role).toBe('INSTRUCTOR');
    const draft = await a.make.course(instructor.id, { status: 'DRAFT' });
    expect(draft).toBeDefined();

    await raw(b.gql, `mutation { updateProfile(input: { displayName: "Dr. Renamed" }) { id } }`, {}, accessToken);
    const renamed = await raw(a.gql, q, {}, accessToken);
    expect(renamed.data.me.displayName).toBe('Dr. Renamed');
    expect(renamed.data.courses.totalCount).toBe(cached.data.courses.totalCount + 1); // fresh, so the new draft shows

    await raw(
      b.gql,
      `mutation($u: ID!) { setUserRole(input: { userId: $u, role: STUDENT }) { role } }`,
      { u: gid('User', instructor.id) },
      adminToken,
    );
    // A demotion revokes the tokens issued before it: nothing is served to the
    // old token at all, cached or not (before, it was a MISS: the user's entries went with it).
    // (made through B, it reaches A over pub/sub within moments)
    const demotedOld = await vi.waitFor(
      async () => {
        const r = await raw(a.gql, q, {}, accessToken);
        expect(r.status).toBe(401);
        return r;
      },
      { timeout: 2_000, interval: 20 },
    );
    expect(demotedOld.errors?.[0]?.extensions?.reason).toBe('TOKEN_REVOKED');
    const refreshed = await a.gql(REFRESH, { t: refreshToken });
    const asStudent = await raw(a.gql, q, {}, refreshed.data.refreshSession.accessToken);
    expect(asStudent.data.me.role).toBe('STUDENT');
    expect(asStudent.cache).toBe('MISS'); // a new role is a new cache scope

    await raw(a.gql, q, {}, refreshed.data.refreshSession.accessToken);
    await a.gql(`mutation($t: String!) { logout(input: { refreshToken: $t }) }`, {
      t: refreshed.data.refreshSession.refreshToken,
    });
    // Logged out: the session's access token is refused, so no cached answer either.
    const loggedOut = await raw(a.gql, q, {}, refreshed.data.refreshSession.accessToken);
    expect(loggedOut.status).toBe(401);
    expect(loggedOut.cache).toBeNull();
  });

  describe('automatic persisted queries', () => {
    const query = `query Persisted { courses(first: 2) { totalCount } }`;
    const hash = createHash('sha256').update(query).digest('hex');
    const ext = { persistedQuery: { version: 1, sha256Hash: hash } };
    const post = (url: string, body: object) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as any }),
      );

    it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, then remembers it for every instance', async () => {
      const unknown = await post(a.url, { extensions: ext });
      expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const registered = await post(a.url, { query, extensions: ext });
      expect(registered.body.data.courses.totalCount).toBeGreaterThan(0);
      const byHashOnB = await post(b.url, { extensions: ext });
      expect(byHashOnB.body.data).toEqual(registered.body.data);
    });

    it('serves persisted queries over GET, cacheable by a CDN', async () => {
      const url = new URL(b.url);
      url.searchParams.set('operationName', 'Persisted');
      url.searchParams.set('extensions', JSON.stringify(ext));
      const get = () => fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
      await get();
      const res = await get();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('HIT');
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
      expect(((await res.json()) as any).data.courses.totalCount).toBeGreaterThan(0);
      const mutationOverGet = new URL(b.url);
      mutationOverGet.searchParams.set('query', 'mutation { logout(input: { refreshToken: "x" }) }');
      expect((await fetch(mutationOverGet, { headers: { 'apollo-require-preflight': 'true' } })).status).toBe(405);
    });
  });
});

describe('response cache when Redis fails', () => {
  it('runs requests uncached, within the read timeout, and recovers', async () => {
    const redis = await startPrivateRedis();
    const t = await startTestApp({ REDIS_URL: redis.url, CACHE_TIMEOUT_MS: '20' });
    try {
      const gql = graphqlClient(t.url);
      await gql(CATALOG, { first: 2 });
      expect((await gql(CATALOG, { first: 2 })).headers.get('x-cache')).toBe('HIT');
      await redis.stop();
      const started = Date.now();
      const res = await gql(CATALOG, { first: 2 });
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
      expect(res.headers.get('x-cache')).toBe('BYPASS');
      expect(Date.now() - started).toBeLessThan(2_000);
      await redis.start();
      let outcome: string | null = null;
      for (let i = 0; i < 100 && outcome !== 'HIT'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        outcome = (await gql(CATALOG, { first: 2 })).headers.get('x-cache');
      }
      expect(outcome).toBe('HIT');
    } finally {
      await t.close();
      await redis.stop();
    }
  });

  it('can be turned off', async () => {
    const t = await startTestApp({ CACHE_ENABLED: 'false' });
    try {
      await t.gql(CATALOG, { first: 2 });
      const second = await t.countQueries(() => t.gql(CATALOG, { first: 2 }));
      expect(second.result.headers.get('x-cache')).toBe('BYPASS');
      expect(second.statements).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });
});
