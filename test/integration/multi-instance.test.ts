import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/config.js';
import { createDatabase, type Database } from '../../src/db/client.js';
import { createLogger } from '../../src/logging/logger.js';
import { createSession } from '../../src/modules/accounts/session.repository.js';
import { createTestDatabase, testRedisPrefix } from '../helpers/databases.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid, makeFactories } from '../helpers/factories.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { spawnApi, type RunningApi } from '../helpers/spawn-api.js';
import { liveClient, primed, subscribe } from '../helpers/ws-client.js';

/**
 * Two API processes on different ports sharing one Postgres and one Redis: a mutation sent to
 * one reaches a subscriber connected to the other (fan-out through Redis), and a logout on
 * one closes the user's socket on the other.
 */
describe('two API instances', () => {
  let target: Awaited<ReturnType<typeof createTestDatabase>>;
  let database: Database;
  let a: RunningApi, b: RunningApi;
  const tokens = new TokenService({
    secret: TEST_JWT_SECRET,
    issuer: 'eduflow',
    audience: 'eduflow-api',
    accessTokenTtlSeconds: 900,
  });

  beforeAll(async () => {
    target = await createTestDatabase();
    const env = {
      DATABASE_URL: target.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: testRedisPrefix(),
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
    };
    [a, b] = await Promise.all([spawnApi(env), spawnApi(env)]);
    database = createDatabase(
      loadConfig({ DATABASE_URL: target.url, JWT_SECRET: TEST_JWT_SECRET }),
      createLogger('silent'),
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.close();
    await target?.drop();
  });

  const tokenFor = async (user: { id: string; role: 'ADMIN' | 'INSTRUCTOR' | 'STUDENT' }) => {
    const { session } = await createSession(database.db, user.id, 1, 'vitest');
    return (await tokens.signAccessToken({ userId: user.id, role: user.role, sessionId: session.id })).token;
  };

  it('run on different ports', () => {
    expect(new URL(a.url).port).not.toBe(new URL(b.url).port);
  });

  it('deliver a mutation made through one to a subscriber connected to the other', async () => {
    const make = makeFactories(database.db);
    const owner = await make.user({ role: 'INSTRUCTOR' });
    const student = await make.user();
    const course = await make.course(owner.id);
    await make.enrollment(student.id, course.id);
    const ownerToken = await tokenFor(owner);
    const gqlA = graphqlClient(a.url);

    const socket = liveClient(b.url, { authorization: `Bearer ${await tokenFor(student)}` });
    try {
      const sub = subscribe(
        socket,
        `subscription($c: ID) { lessonStatusChanged(courseId: $c) { previousStatus status lesson { title } } }`,
        { c: gid('Course', course.id) },
      );
      const create = (title: string) =>
        gqlA(
          `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`,
          { c: gid('Course', course.id), t: title },
          { token: ownerToken },
        );
      await primed(sub, () => create('probe'));
      const lesson = (await create('Cross-instance')).data.createLesson.id;
      expect((await sub.next()).data.lessonStatusChanged).toEqual({
        previousStatus: null,
        status: 'SCHEDULED',
        lesson: { title: 'Cross-instance' },
      });
      await gqlA(`mutation($id: ID!) { startLesson(id: $id) { status } }`, { id: lesson }, { token: ownerToken });
      expect((await sub.next()).data.lessonStatusChanged).toEqual({
        previousStatus: 'SCHEDULED',
        status: 'IN_PROGRESS',
        lesson: { title: 'Cross-instance' },
      });
    } finally {
      await socket.dispose();
    }
  });

  it('add a course joined through one instance to a courseId: null subscription on the other, not one another user joined', async () => {
    const make = makeFactories(database.db);
    const owner = await make.user({ role: 'INSTRUCTOR' });
    const student = await make.user();
    const other = await make.user();
    const [first, joined, othersCourse] = await Promise.all([
      make.course(owner.id),
      make.course(owner.id),
      make.course(owner.id),
    ]);
    await make.enrollment(student.id, first.id);
    const ownerToken = await tokenFor(owner);
    const gqlA = graphqlClient(a.url);
    const create = (courseId: string, title: string) =>
      gqlA(
        `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`,
        { c: gid('Course', courseId), t: title },
        { token: ownerToken },
      );
    const enroll = async (user: { id: string; role: 'STUDENT' }, courseId: string) => {
      const res = await gqlA(
        `mutation($c: ID!) { enroll(courseId: $c) { status } }`,
        { c: gid('Course', courseId) },
        { token: await tokenFor(user) },
      );
      expect(res.errors).toBeUndefined();
    };

    const socket = liveClient(b.url, { authorization: `Bearer ${await tokenFor(student)}` });
    try {
      const sub = subscribe(socket, `subscription { lessonStatusChanged(courseId: null) { lesson { title } } }`);
      await primed(sub, () => create(first.id, 'probe'));
      // Joined through instance A: B's subscription follows the course from then on.
      await enroll({ id: student.id, role: 'STUDENT' }, joined.id);
      await primed(sub, () => create(joined.id, 'probe joined'));
      await create(joined.id, 'In the joined course');
      expect((await sub.next()).data.lessonStatusChanged.lesson.title).toBe('In the joined course');
      // Another user joining a course is not this subscription's business.
      await enroll({ id: other.id, role: 'STUDENT' }, othersCourse.id);
      await new Promise((r) => setTimeout(r, 300));
      await create(othersCourse.id, 'Not followed');
      expect(await sub.quiet(700)).toBe(true);
    } finally {
      await socket.dispose();
    }
  });

  it("close a user's socket on one instance when their role is changed through the other", async () => {
    const make = makeFactories(database.db);
    const admin = await make.user({ role: 'ADMIN' });
    const user = await make.user();
    const socket = liveClient(b.url, { authorization: `Bearer ${await tokenFor(user)}` });
    subscribe(socket, `subscription { lessonStatusChanged { status } }`);
    await socket.connected;
    const res = await graphqlClient(a.url)(
      `mutation($u: ID!) { setUserRole(input: { userId: $u, role: INSTRUCTOR }) { role } }`,
      { u: gid('User', user.id) },
      { token: await tokenFor(admin) },
    );
    expect(res.errors).toBeUndefined();
    expect(await socket.closed).toBe(4403);
    await socket.dispose();
  });
});
