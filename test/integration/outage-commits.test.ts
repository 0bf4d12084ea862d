import postgres from 'postgres';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { gid } from '../helpers/factories.js';
import { startPrivatePostgres } from '../helpers/private-postgres.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

const UPDATE = `mutation($id: ID!, $t: String) { updateCourse(input: { id: $id, title: $t }) { title } }`;

async function courseOf(t: TestApp) {
  const owner = await t.make.user({ role: 'INSTRUCTOR' });
  const course = await t.make.course(owner.id, { title: 'before' });
  return { token: await t.tokenFor(owner), id: course.id, gid: gid('Course', course.id) };
}

/** The course's title as committed, read on a connection of the test's own. */
async function committedTitle(url: string, id: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ title: string }[]>`select title from courses where id = ${id}`;
    return row!.title;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A 503 means "not committed": nothing an answered request began may commit afterwards. */
describe('a 503 during a database outage', () => {
  it('is final for a mutation that was waiting for a connection: its transaction never begins', async () => {
    const t = await startTestApp({ DB_POOL_MAX: '1', OPERATION_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '900' });
    cleanups.push(() => t.close());
    const course = await courseOf(t);
    // The pool's only connection is busy (idle in a transaction) for 2.5 s.
    const busy = t.app.database.db.transaction(async (tx) => {
      await tx.execute('select 1');
      await new Promise((r) => setTimeout(r, 2_500));
    });
    const answer = await t.gql(UPDATE, { id: course.gid, t: 'after' }, { token: course.token });
    expect(answer.status).toBe(503);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'TIMEOUT' });
    await busy;
    // The connection is free again: the request's reads and writes would run by now.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await committedTitle(t.databaseUrl, course.id)).toBe('before');
    expect(answer.headers.get('retry-after')).toBe('1');
  }, 60_000);

  it('rolls back a transaction under way before answering, and it never commits', async () => {
    const t = await startTestApp({ OPERATION_TIMEOUT_MS: '1500', DB_STATEMENT_TIMEOUT_MS: '1400' });
    cleanups.push(() => t.close());
    const course = await courseOf(t);
    // Another session holds the course's row lock: the mutation's transaction waits on it.
    const other = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    cleanups.push(() => other.end({ timeout: 1 }));
    let release!: () => void;
    const holding = other.begin(async (sql) => {
      await sql`select id from courses where id = ${course.id} for update`;
      await new Promise<void>((r) => (release = r));
    });
    await vi.waitFor(() => expect(release).toBeDefined());
    const answer = await t.gql(UPDATE, { id: course.gid, t: 'after' }, { token: course.token });
    expect(answer.status).toBe(503);
    expect(answer.errors?.[0]?.extensions?.reason).toMatch(/^(TIMEOUT|DATABASE_UNAVAILABLE)$/);
    // Answered after the rollback: no session of the app is left in the transaction.
    const observer = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    cleanups.push(() => observer.end({ timeout: 1 }));
    const [active] = await observer<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where application_name = 'eduflow' and state in ('active', 'idle in transaction')
        and query not like '%pg_stat_activity%' and datname = current_database()`;
    expect(active!.n).toBe(0);
    release();
    await holding;
    await other.end({ timeout: 1 });
    expect(await committedTitle(t.databaseUrl, course.id)).toBe('before');
  }, 60_000);
});

describe('a Postgres of its own, frozen and stopped', () => {
  it('answers OUTCOME_UNKNOWN only when the server froze with the COMMIT in flight', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const t = await startTestApp({
      DATABASE_URL: pg.url,
      OPERATION_TIMEOUT_MS: '1500',
      DB_STATEMENT_TIMEOUT_MS: '1400',
    });
    cleanups.push(() => t.app.close());
    const course = await courseOf(t);
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    cleanups.push(() => admin.end({ timeout: 1 }));
    // Work done at COMMIT (a deferred trigger): the test sees the COMMIT running and freezes the server.
    await admin.unsafe(`
      create function slow_commit() returns trigger language plpgsql as $$
        begin perform pg_sleep(0.4); return null; end $$;
      create constraint trigger slow_commit after update on courses
        deferrable initially deferred for each row execute function slow_commit();`);
    const watcher = postgres(pg.url, { max: 1, onnotice: () => {} });
    const frozen = (async () => {
      for (;;) {
        const rows = await watcher`
          select 1 from pg_stat_activity where application_name = 'eduflow' and state = 'active' and query ilike 'commit%'`;
        if (rows.length) return pg.freeze();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const answering = t.gql(UPDATE, { id: course.gid, t: 'after' }, { token: course.token });
    await frozen;
    const answer = await answering;
    expect(answer.status).toBe(503);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'OUTCOME_UNKNOWN' });
    pg.thaw();
    await watcher.end({ timeout: 1 });
  }, 90_000);

  it('fails fast while the server is frozen, serves cached reads, follows the breaker in /ready, and recovers within 2 s', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const t = await startTestApp({
      DATABASE_URL: pg.url,
      OPERATION_TIMEOUT_MS: '8000',
      DB_STATEMENT_TIMEOUT_MS: '5000',
    });
    cleanups.push(() => t.app.close());
    const course = await courseOf(t);
    const CATALOG = `{ courses(first: 2) { totalCount } }`;
    await t.gql(CATALOG);
    expect((await t.gql(CATALOG)).headers.get('x-cache')).toBe('HIT');

    pg.freeze();
    // The first request finds the server silent; once the breaker has decided, every request
    // that needs the database is refused within a second.
    const first = await t.gql(`{ c: courses(first: 3) { totalCount } }`);
    expect(first.status).toBe(503);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const r = await t.gql(UPDATE, { id: course.gid, t: `frozen ${i}` }, { token: course.token });
      times.push(Date.now() - started);
      expect(r.status).toBe(503);
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'DATABASE_UNAVAILABLE' });
      expect(r.headers.get('retry-after')).toBeTruthy();
    }
    expect(Math.max(...times)).toBeLessThan(1_000);
    const cached = await t.gql(CATALOG);
    expect(cached.status).toBe(200);
    expect(cached.headers.get('x-cache')).toBe('HIT');
    const started = Date.now();
    const ready = await fetch(new URL('/ready', t.url));
    expect(ready.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_000);

    pg.thaw();
    const back = Date.now();
    await vi.waitFor(async () => expect((await t.gql(`{ c: courses(first: 4) { totalCount } }`)).status).toBe(200), {
      timeout: 10_000,
      interval: 50,
    });
    expect(Date.now() - back).toBeLessThan(2_000);
    expect((await fetch(new URL('/ready', t.url))).status).toBe(200);
    // None of the refused updates committed.
    expect(await committedTitle(pg.url, course.id)).toBe('before');
  }, 90_000);

  it('answers 503 with Retry-After on the hot path and the Express path while stopped, and recovers within 2 s', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const t = await startTestApp({ DATABASE_URL: pg.url, CACHE_ENABLED: 'false' });
    cleanups.push(() => t.app.close());
    const QUERY = `{ courses(first: 2) { totalCount } }`;
    expect((await t.gql(QUERY)).status).toBe(200);

    pg.stop();
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const hot = await t.gql(QUERY); // POST application/json: the node:http path
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(hot.status).toBe(503);
      expect(hot.errors?.[0]?.extensions).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        reason: 'DATABASE_UNAVAILABLE',
      });
      expect(hot.headers.get('retry-after')).toBe('1');
      const viaExpress = await fetch(`${t.url}?query=${encodeURIComponent(QUERY)}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(viaExpress.status).toBe(503);
      expect(viaExpress.headers.get('retry-after')).toBe('1');
      const body = (await viaExpress.json()) as { data?: unknown; errors: Array<{ extensions: { code: string } }> };
      expect(body.data ?? null).toBeNull();
      expect(body.errors[0]!.extensions.code).toBe('SERVICE_UNAVAILABLE');
    }

    pg.start();
    const back = Date.now();
    await vi.waitFor(async () => expect((await t.gql(QUERY)).status).toBe(200), { timeout: 10_000, interval: 50 });
    expect(Date.now() - back).toBeLessThan(2_000);
  }, 90_000);
});
