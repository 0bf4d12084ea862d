import { Redis } from 'ioredis';
import postgres from 'postgres';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOGIN, userWithPassword } from '../helpers/accounts.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe } from '../helpers/ws-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Edge cases of the live path: clean-up, races, and the WebSocket side of HTTP's rules. */
describe('live path hardening', () => {
  let t: TestApp;
  let redis: Redis;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: '1', LOGIN_MAX_ATTEMPTS: '3' });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
  });

  const subscribers = async (courseId: string) => {
    const [, n] = (await redis.pubsub('NUMSUB', `${t.redisPrefix}lesson.status.${courseId}`)) as [string, number];
    return n;
  };
  const until = async (check: () => Promise<boolean>, ms = 3_000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (await check()) return true;
    return false;
  };

  it('unsubscribes from Redis as soon as an idle subscriber leaves', async () => {
    const owner = await t.make.user({ role: 'INSTRUCTOR' });
    const student = await t.make.user();
    const course = await t.make.course(owner.id);
    await t.make.enrollment(student.id, course.id);
    const c = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(student)}` });
    subscribe(c, `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status } }`, {
      c: gid('Course', course.id),
    });
    expect(await until(async () => (await subscribers(course.id)) === 1)).toBe(true);
    await c.dispose();
    expect(await until(async () => (await subscribers(course.id)) === 0, 1_500)).toBe(true);
  });

  it('forgets sockets that close while their connection_init is being checked', async () => {
    const user = await t.make.user();
    const token = await t.tokenFor(user);
    for (let i = 0; i < 20; i++) {
      const raw = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      await new Promise((r) => raw.once('open', r));
      raw.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      raw.terminate();
    }
    // Left a fixed wait: the checks of closed sockets finish unobserved (no message, no event
    // on a closed socket), so there is nothing to await; this gives them time to land.
    await sleep(500);
    expect(t.app.ws.closeUserSockets(user.id, 'test')).toBe(0);
  });

  it('refuses a reconnect with a token whose role is no longer the user’s', async () => {
    const admin = await t.make.user({ role: 'ADMIN' });
    const user = await t.make.user();
    const oldToken = await t.tokenFor(user);
    await t.gql(
      `mutation($u: ID!) { setUserRole(input: { userId: $u, role: INSTRUCTOR }) { role } }`,
      { u: gid('User', user.id) },
      { token: await t.tokenFor(admin) },
    );
    const c = liveClient(t.url, { authorization: `Bearer ${oldToken}` });
    expect(await c.closed).toBe(4403);
    await c.dispose();
  });

  it('sees the same client address over WebSocket as over HTTP (TRUST_PROXY=1: one proxy hop)', async () => {
    const user = await userWithPassword(t, 'cobalt-meadow-lantern-5');
    // Spoofed left-most entries differ; the address the trusted proxy saw is the same.
    for (let i = 0; i < 3; i++) {
      await t.gql(
        LOGIN,
        { input: { email: user.email, password: `wrong-${i}-wrong` } },
        { headers: { 'x-forwarded-for': `10.0.0.${i}, 203.0.113.77` } },
      );
    }
    const c = liveClient(t.url, undefined, { 'x-forwarded-for': '10.9.9.9, 203.0.113.77' });
    const res = subscribe(c, LOGIN, { input: { email: user.email, password: 'cobalt-meadow-lantern-5' } });
    expect(codesOf({ errors: (await res.next()).errors } as never)).toEqual(['RATE_LIMITED']);
    await c.dispose();
  });

  it('closes enrollment the moment a course is archived, even mid-enrollment', async () => {
    const owner = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(owner.id);
    const studentToken = await t.tokenFor(await t.make.user());
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    const watcher = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      let pending: Promise<unknown> | undefined;
      await sql.begin(async (tx) => {
        await tx`update courses set status = 'ARCHIVED' where id = ${course.id}`;
        pending = t.gql(
          `mutation($c: ID!) { enroll(courseId: $c) { status } }`,
          { c: gid('Course', course.id) },
          { token: studentToken },
        );
        // The enrollment now waits on the course row: a backend of this database waits for a lock.
        const waiting = async () =>
          (
            await watcher<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`
          )[0]!.n;
        await vi.waitFor(
          async () => {
            const n = await waiting();
            expect(n).toBeGreaterThanOrEqual(1);
            return n;
          },
          { timeout: 10_000, interval: 25 },
        );
      });
      expect(codesOf((await pending) as never)).toEqual(['CONFLICT']);
    } finally {
      await Promise.all([sql.end(), watcher.end()]);
    }
  });
});

describe('WebSocket in production', () => {
  it('refuses introspection, as HTTP does', async () => {
    const t = await startTestApp({ NODE_ENV: 'production' });
    try {
      const c = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(await t.make.user())}` });
      const res = subscribe(c, `{ __schema { types { name } } }`);
      const errors = (await res.ended) as Array<{ extensions?: { code?: string } }>;
      expect(errors[0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      await c.dispose();
    } finally {
      await t.close();
    }
  });
});
