import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe } from '../helpers/ws-client.js';

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const DEBUG = 20;
const INFO = 30;
const WARN = 40;

/** WebSocket connections and operations leave log lines, under the upgrade's request id. */
describe('WebSocket logging', () => {
  let t: TestApp;
  const raw: string[] = [];
  const lines = () => raw.map((l) => JSON.parse(l) as Line);
  const linesOf = (requestId: string) => lines().filter((l) => l.requestId === requestId);

  beforeAll(async () => {
    const log = createLogger('debug', {}, { write: (line: string) => void raw.push(line) });
    t = await startTestApp({ LOG_LEVEL: 'debug' }, { log });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('logs open, subscription start and end, and close with code, duration and subscriptions served', async () => {
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(instructor.id);
    const token = await t.tokenFor(instructor);
    const live = liveClient(t.url, { authorization: `Bearer ${token}` }, { 'x-request-id': 'dashboard-42' });
    await live.connected;
    const sub = subscribe(live, `subscription Board($c: ID) { lessonStatusChanged(courseId: $c) { status } }`, {
      c: gid('Course', course.id),
    });
    await vi.waitFor(() => expect(linesOf('dashboard-42').some((l) => l.msg === 'ws subscription start')).toBe(true), {
      timeout: 10_000,
    });
    sub.stop();
    await vi.waitFor(() => expect(linesOf('dashboard-42').some((l) => l.msg === 'ws subscription end')).toBe(true), {
      timeout: 10_000,
    });
    await live.dispose();
    await vi.waitFor(() => expect(linesOf('dashboard-42').some((l) => l.msg === 'ws connection closed')).toBe(true), {
      timeout: 10_000,
    });

    const mine = linesOf('dashboard-42');
    const open = mine.find((l) => l.msg === 'ws connection open')!;
    expect(open).toMatchObject({ level: INFO, userId: instructor.id });
    expect(mine.find((l) => l.msg === 'ws subscription start')).toMatchObject({
      level: DEBUG,
      userId: instructor.id,
      operationName: 'Board',
      id: expect.any(String),
    });
    expect(mine.find((l) => l.msg === 'ws subscription end')).toMatchObject({ level: DEBUG });
    const closed = mine.find((l) => l.msg === 'ws connection closed')!;
    expect(closed).toMatchObject({ level: INFO, userId: instructor.id, code: 1000, subscriptions: 1 });
    expect(closed.durationMs).toEqual(expect.any(Number));
    // Redaction as on HTTP: the token and the variables never reach a line.
    expect(raw.join('\n')).not.toContain(token);
  });

  it('logs a refused connection (4403) and a refused operation at warn; queries under the socket id', async () => {
    const bad = liveClient(t.url, { authorization: 'Bearer not-a-token' }, { 'x-request-id': 'bad-token-1' });
    expect(await bad.closed).toBe(4403);
    await vi.waitFor(() =>
      expect(linesOf('bad-token-1').find((l) => l.msg === 'ws connection closed')).toMatchObject({
        level: WARN,
        code: 4403,
        subscriptions: 0,
      }),
    );

    const student = await t.make.user();
    const live = liveClient(
      t.url,
      { authorization: `Bearer ${await t.tokenFor(student)}` },
      { 'x-request-id': 'ops-7' },
    );
    await live.connected;
    const refused = subscribe(live, `subscription Nope { noSuchField }`);
    await refused.ended;
    const query = subscribe(live, `query Me { me { id } }`);
    expect((await query.next()).data.me.id).toBe(gid('User', student.id));
    await vi.waitFor(() => {
      const mine = linesOf('ops-7');
      expect(mine.find((l) => l.msg === 'ws operation refused')).toMatchObject({
        level: WARN,
        userId: student.id,
        codes: ['GRAPHQL_VALIDATION_FAILED'],
      });
      expect(mine.find((l) => l.msg === 'ws operation')).toMatchObject({
        level: DEBUG,
        operationName: 'Me',
        operationType: 'query',
      });
    });
    await live.dispose();
  });
});
