import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN, newAccount, REFRESH, REGISTER, userWithPassword } from '../helpers/accounts.js';
import { gid } from '../helpers/factories.js';
import type { GraphQLResponse } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe } from '../helpers/ws-client.js';

/** How long the pool's only connection is held: well past the operation timeout (1 s). */
const BUSY_MS = 2_500;
/** After the connection is free again, how long a request's left-over work would need to commit. */
const AFTERMATH_MS = 1_500;

let t: TestApp;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
beforeAll(async () => {
  t = await startTestApp({ DB_POOL_MAX: '1', OPERATION_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '900' });
  cleanups.push(() => t.close());
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

/**
 * Sends `request` while the pool's only connection is busy: its answer comes at the operation
 * timeout, then the connection frees and whatever the request left queued would run.
 */
async function whilePoolBusy<T>(request: () => Promise<T>): Promise<T> {
  const busy = t.app.database.db.transaction(async (tx) => {
    await tx.execute('select 1');
    await new Promise((r) => setTimeout(r, BUSY_MS));
  });
  const answer = await request();
  await busy;
  await new Promise((r) => setTimeout(r, AFTERMATH_MS));
  return answer;
}

/** A count on a connection of the test's own, outside the app's pool. */
async function count(query: string, ...params: string[]): Promise<number> {
  const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${query}`, params);
    return row!.n;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function expectNotCommittedAnswer(answer: GraphQLResponse) {
  expect(answer.status).toBe(503);
  expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'TIMEOUT' });
  expect(answer.headers.get('retry-after')).toBe('1');
}

/** A 503 means "not committed", for every area's writes, over HTTP and WebSocket. */
describe('a write answered 503 while it waited for the database', () => {
  it('register: no account is created afterwards', async () => {
    const account = newAccount();
    const answer = await whilePoolBusy(() => t.gql(REGISTER, { input: account }));
    expectNotCommittedAnswer(answer);
    expect(await count(`users where email = $1`, account.email)).toBe(0);
  }, 30_000);

  it('login: no session is started afterwards', async () => {
    const user = await userWithPassword(t, 'plum-kettle-harbour-42');
    const answer = await whilePoolBusy(() =>
      t.gql(LOGIN, { input: { email: user.email, password: 'plum-kettle-harbour-42' } }),
    );
    expectNotCommittedAnswer(answer);
    expect(await count(`auth_sessions where user_id = $1`, user.id)).toBe(0);
  }, 30_000);

  it('refreshSession: the refresh token is not rotated afterwards', async () => {
    const user = await userWithPassword(t, 'plum-kettle-harbour-42');
    const signedIn = await t.gql(LOGIN, { input: { email: user.email, password: 'plum-kettle-harbour-42' } });
    const refreshToken = (signedIn.data as { login: { refreshToken: string } }).login.refreshToken;
    const answer = await whilePoolBusy(() => t.gql(REFRESH, { t: refreshToken }));
    expectNotCommittedAnswer(answer);
    // Still the one token of the sign-in, not rotated: no successor was issued.
    const tokens = `refresh_tokens r join auth_sessions s on s.id = r.session_id where s.user_id = $1`;
    expect(await count(tokens, user.id)).toBe(1);
    expect(await count(`${tokens} and r.rotated_at is null`, user.id)).toBe(1);
    // The token still works: the client's retry succeeds.
    expect((await t.gql(REFRESH, { t: refreshToken })).status).toBe(200);
  }, 30_000);

  it('requestPasswordReset: no reset link is recorded afterwards', async () => {
    const user = await t.make.user();
    const answer = await whilePoolBusy(() =>
      t.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: user.email }),
    );
    expectNotCommittedAnswer(answer);
    expect(await count(`account_tokens where user_id = $1`, user.id)).toBe(0);
  }, 30_000);

  it('createCategory: no category is created afterwards', async () => {
    const token = await t.tokenFor(await t.make.user({ role: 'ADMIN' }));
    const name = `Outage ${Date.now()}`;
    const answer = await whilePoolBusy(() =>
      t.gql(`mutation($n: String!) { createCategory(input: { name: $n }) { id } }`, { n: name }, { token }),
    );
    expectNotCommittedAnswer(answer);
    expect(await count(`categories where name = $1`, name)).toBe(0);
  }, 30_000);

  it('writeReview: no review is written afterwards', async () => {
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(instructor.id);
    const student = await t.make.user();
    await t.make.enrollment(student.id, course.id);
    const token = await t.tokenFor(student);
    const answer = await whilePoolBusy(() =>
      t.gql(
        `mutation($c: ID!) { writeReview(input: { courseId: $c, rating: 4 }) { id } }`,
        { c: gid('Course', course.id) },
        { token },
      ),
    );
    expectNotCommittedAnswer(answer);
    expect(await count(`reviews where course_id = $1`, course.id)).toBe(0);
  }, 30_000);

  it('over a WebSocket: answered SERVICE_UNAVAILABLE at the operation timeout, and not committed afterwards', async () => {
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(instructor.id, { title: 'before' });
    const live = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(instructor)}` });
    cleanups.push(() => live.dispose());
    await live.connected;
    const started = Date.now();
    let answeredAfter = 0;
    const result = await whilePoolBusy(async () => {
      const r = await subscribe(
        live,
        `mutation($id: ID!) { updateCourse(input: { id: $id, title: "after" }) { title } }`,
        {
          id: gid('Course', course.id),
        },
      ).next(10_000);
      answeredAfter = Date.now() - started;
      return r as { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> };
    });
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'TIMEOUT' });
    // At the operation timeout (and its rollback), not when the connection came free.
    expect(answeredAfter).toBeLessThan(BUSY_MS);
    expect(await count(`courses where id = $1 and title = 'before'`, course.id)).toBe(1);
  }, 30_000);
});
