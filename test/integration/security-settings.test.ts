import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { createTestDatabase, testRedisPrefix } from '../helpers/databases.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { spawnApi, type RunningApi } from '../helpers/spawn-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** Smaller security settings: each one a deliberate choice (docs/security.md). */
describe('security settings', () => {
  describe('production without METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ NODE_ENV: 'production' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('does not serve /metrics on the public listener', async () => {
      const res = await fetch(new URL('/metrics', t.url));
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/eduflow_/);
    });
  });

  describe('production with METRICS_TOKEN', () => {
    let t: TestApp;
    const token = 'scrape-token-0123456789abcdef';
    beforeAll(async () => {
      t = await startTestApp({ NODE_ENV: 'production', METRICS_TOKEN: token });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('serves /metrics to the bearer of the token only', async () => {
      expect((await fetch(new URL('/metrics', t.url))).status).toBe(401);
      expect((await fetch(new URL('/metrics', t.url), { headers: { authorization: `Bearer ${token}x` } })).status).toBe(
        401,
      );
      const res = await fetch(new URL('/metrics', t.url), { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/eduflow_/);
    });
  });

  describe('with introspection on', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ GRAPHQL_INTROSPECTION: 'true' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('prices every aliased __schema, so thirty copies are refused before they run', async () => {
      const query = `{ ${Array.from({ length: 30 }, (_, i) => `s${i}: __schema { types { name fields { name } } }`).join(' ')} }`;
      const res = await t.gql(query);
      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(res.errors?.[0]?.message).toMatch(/cost \d+ exceeds/);
    });

    it('still answers one full introspection query', async () => {
      const res = await t.gql(`{ __schema { types { name fields { name args { name } } } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data.__schema.types.length).toBeGreaterThan(10);
    });
  });

  describe('titles and names that reach email headers', () => {
    let t: TestApp;
    let instructor: UserRow;
    let token: string;
    beforeAll(async () => {
      t = await startTestApp();
      instructor = await t.make.user({ role: 'INSTRUCTOR' });
      token = await t.tokenFor(instructor);
    });
    afterAll(async () => {
      await t?.close();
    });

    it.each([
      [
        'a course title with CR/LF',
        `mutation($t: String!) { createCourse(input: { title: $t }) { id } }`,
        'Intro\r\nBcc: victim@example.test',
        'input.title',
      ],
      [
        'a course title with a tab',
        `mutation($t: String!) { createCourse(input: { title: $t }) { id } }`,
        'Intro\tcourse',
        'input.title',
      ],
      [
        'a display name with LF',
        `mutation($t: String) { updateProfile(input: { displayName: $t }) { id } }`,
        'Ann\nSubject: hi',
        'input.displayName',
      ],
    ])('refuses %s as BAD_USER_INPUT', async (_what, query, value, field) => {
      const res = await t.gql(query, { t: value }, { token });
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      expect(Object.keys(res.errors?.[0]?.extensions?.fieldErrors ?? {})).toEqual([field.replace(/^input\./, '')]);
    });

    it('refuses a lesson title with a line break', async () => {
      const course = await t.make.course(instructor.id);
      const res = await t.gql(
        `mutation($c: ID!) { createLesson(input: { courseId: $c, title: "Week 1\\nBcc: x@example.test" }) { id } }`,
        { c: gid('Course', course.id) },
        { token },
      );
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('a production API process', () => {
    let target: Awaited<ReturnType<typeof createTestDatabase>>;
    let api: RunningApi;
    beforeAll(async () => {
      target = await createTestDatabase();
      api = await spawnApi({
        NODE_ENV: 'production',
        MAIL_TRANSPORT: 'log',
        DATABASE_URL: target.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: testRedisPrefix(),
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'info',
        MAX_SOCKETS_PER_IP: '0',
      });
    }, 120_000);
    afterAll(async () => {
      await api?.stop();
      await target?.drop();
    });

    it('logs an oversized WebSocket message as a JSON line, never a plain-text stack', async () => {
      const socket = new WebSocket(api.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.on('error', () => {});
      socket.send('x'.repeat(200 * 1024));
      expect(await closed).toBeGreaterThanOrEqual(1000);
      // The process reports it: wait for its line, then check every line after the banner.
      const deadline = Date.now() + 10_000;
      while (!/Max payload size exceeded|Internal error emitted/.test(api.output()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const lines = api
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('  '));
      const plain = lines.filter((l) => !l.startsWith('{'));
      expect(plain).toEqual([]);
      expect(lines.some((l) => /"module":"console"/.test(l) && /Max payload size exceeded/.test(l))).toBe(true);
    });
  });
});
