import WebSocket from 'ws';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { codesOf, graphqlClient } from '../helpers/graphql-client.js';
import { startPrivateRedis } from '../helpers/services.js';
import { startPrivatePostgres } from '../helpers/private-postgres.js';
import { startTestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe } from '../helpers/ws-client.js';

const CATALOG = `{ courses(first: 3) { totalCount edges { node { title } } } }`;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

/** Dependencies stop and come back around live traffic: clean errors, no crash, full recovery. */
describe('fault tolerance', () => {
  it('closes WebSockets with 1001 (going away) when shutting down', async () => {
    const t = await startTestApp();
    const socket = liveClient(t.url);
    await socket.connected;
    const closing = t.app.close();
    expect(await socket.closed).toBe(1001);
    await closing;
    await t.close();
  });

  it('does not let a client that never acknowledges the close hold up shutdown', async () => {
    const t = await startTestApp();
    const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((r) => socket.once('message', r));
    (socket as unknown as { _socket: { pause(): void } })._socket.pause(); // a dropped network: reads nothing more
    socket.on('error', () => {});
    const started = Date.now();
    await t.app.close();
    expect(Date.now() - started).toBeLessThan(8_000);
    socket.terminate();
    await t.close();
  });

  it('answers SERVICE_UNAVAILABLE (503) while Postgres is down, reports it in /ready, and recovers', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const t = await startTestApp({ DATABASE_URL: pg.url, DB_CONNECT_TIMEOUT_S: '2' });
    cleanups.push(() => t.app.close());
    const gql = graphqlClient(t.url);
    expect((await gql(CATALOG)).errors).toBeUndefined();

    pg.stop();
    const down = await gql(`query Q($n: Int) { courses(first: $n) { totalCount } }`, { n: 2 });
    expect(down.status).toBe(503);
    expect(codesOf(down)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(JSON.stringify(down.errors)).not.toMatch(/ECONNREFUSED|stack|at /);
    const ready = await fetch(new URL('/ready', t.url));
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.database).toBe('unavailable');

    pg.start();
    const back = await vi.waitFor(
      async () => {
        const r = await gql(`query Q($n: Int) { courses(first: $n) { totalCount } }`, { n: 2 });
        expect(r.status).toBe(200);
        return r;
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(back.errors).toBeUndefined();
    expect((await fetch(new URL('/ready', t.url))).status).toBe(200);
  }, 90_000);

  it('gives up on a Postgres that hangs after OPERATION_TIMEOUT_MS, with a clean 503, and recovers', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const t = await startTestApp({
      DATABASE_URL: pg.url,
      OPERATION_TIMEOUT_MS: '1000',
      DB_STATEMENT_TIMEOUT_MS: '500',
      CACHE_ENABLED: 'false',
    });
    cleanups.push(() => t.app.close());
    const gql = graphqlClient(t.url);
    expect((await gql(CATALOG)).status).toBe(200);
    pg.freeze();
    const started = Date.now();
    const hung = await gql(CATALOG);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(hung.status).toBe(503);
    expect(hung.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'TIMEOUT' });
    pg.thaw();
    await vi.waitFor(
      async () => {
        const r = await gql(CATALOG);
        expect(r.status === 200 && !r.errors, JSON.stringify(r)).toBe(true);
        return r;
      },
      { timeout: 30_000, interval: 200 },
    );
  }, 90_000);

  it('keeps reads and writes working while Redis is down, and resumes live updates when it returns', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const t = await startTestApp({ REDIS_URL: redis.url, JWT_SECRET: TEST_JWT_SECRET });
    cleanups.push(() => t.app.close());
    const owner = await t.make.user({ role: 'INSTRUCTOR' });
    const ownerToken = await t.tokenFor(owner);
    const course = await t.make.course(owner.id);
    const socket = liveClient(t.url, { authorization: `Bearer ${ownerToken}` });
    cleanups.push(() => socket.dispose());
    const sub = subscribe(
      socket,
      `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status lesson { title } } }`,
      { c: gid('Course', course.id) },
    );
    const create = (title: string) =>
      t.gql(
        `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`,
        { c: gid('Course', course.id), t: title },
        { token: ownerToken },
      );
    await primed(sub, () => create('warm-up'));

    await redis.stop();
    const read = await t.gql(CATALOG);
    expect(read.status).toBe(200);
    expect(read.headers.get('x-cache')).toBe('BYPASS');
    const write = await create('during the outage');
    expect(write.errors).toBeUndefined();
    // Sign-in throttling falls back to this instance's memory instead of failing.
    const login = await t.gql(
      `mutation { login(input: { email: "nobody@example.test", password: "wrong-password-1" }) { accessToken } }`,
    );
    expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    await redis.start();
    // ioredis reconnects and resubscribes by itself; the open subscription hears new events.
    let resumed = false;
    for (let i = 0; i < 40 && !resumed; i++) {
      await create(`after ${i}`);
      try {
        for (;;) {
          const event = await sub.next(700);
          if (event.data?.lessonStatusChanged.lesson.title.startsWith('after ')) {
            resumed = true;
            break;
          }
        }
      } catch {
        // nothing within 700 ms: Redis not back yet
      }
    }
    expect(resumed).toBe(true);
  }, 90_000);
});
