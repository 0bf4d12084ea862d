import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { notifications, type UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { startRedisSentinel, SENTINEL_MASTER_NAME, type RedisSentinelProcess } from '../helpers/redis-sentinel.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe } from '../helpers/ws-client.js';

const START = `mutation($id: ID!) { startLesson(id: $id) { id } }`;
const LIVE = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { lesson { title } } }`;
const CREATE_LESSON = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;
const COURSE = `query($id: ID!) { course(id: $id) { title } }`;
const RENAME_COURSE = `mutation($id: ID!, $title: String!) { updateCourse(input: { id: $id, title: $title }) { title } }`;

/**
 * The queue and pub/sub Redis behind Sentinel: BullMQ, the cache and the bus connect to the
 * master the Sentinels name. A planned failover (SENTINEL FAILOVER) and a crash of the master
 * (SIGKILL) are both survived: mutations answer without waiting for Redis, and every lesson
 * started around the failovers still notifies its student (the workers' blocking
 * connections moved to the new master instead of hanging on the dead one), and the response
 * cache (CACHE_REDIS_SENTINELS) keeps answering, never stale, and hits again on the new master.
 * The tests run in order on one topology; the last one kills the master for good and closes
 * the app.
 */
describe('Redis through Sentinel', () => {
  let redis: RedisSentinelProcess;
  let t: TestApp;
  let instructor: UserRow, student: UserRow;
  let instructorToken: string;

  beforeAll(async () => {
    redis = await startRedisSentinel();
    t = await startTestApp({
      REDIS_URL: undefined,
      REDIS_SENTINELS: redis.sentinels(),
      REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
      // The response cache through Sentinel too, by its own variables (the same servers here).
      CACHE_REDIS_SENTINELS: redis.sentinels(),
      CACHE_REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
      NOTIFICATION_WORKER: 'on',
      OUTBOX_POLL_MS: '200',
      JOB_BACKOFF_MS: '200',
    });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    student = await t.make.user();
    instructorToken = await t.tokenFor(instructor);
  });
  let closed = false;
  afterAll(async () => {
    try {
      if (!closed) await t?.close();
    } finally {
      await redis?.stop();
    }
  });

  /** Starts a new lesson and returns how long the mutation took and the lesson's id. */
  const startLesson = async () => {
    const course = await t.make.course(instructor.id);
    await t.make.enrollment(student.id, course.id);
    const lesson = await t.make.lesson(course.id);
    const began = Date.now();
    const res = await t.gql(START, { id: gid('Lesson', lesson.id) }, { token: instructorToken });
    expect(res.errors).toBeUndefined();
    return { lessonId: lesson.id, ms: Date.now() - began };
  };
  const notified = (lessonId: string) =>
    vi.waitFor(
      async () => {
        const rows = await t.app.database.db
          .select()
          .from(notifications)
          .where(and(eq(notifications.recipientId, student.id), eq(notifications.lessonId, lessonId)));
        expect(rows).toHaveLength(1);
      },
      { timeout: 60_000, interval: 250 },
    );

  it('gives a live subscriber every lesson event exactly once, in order, across SENTINEL FAILOVER', async () => {
    const course = await t.make.course(instructor.id);
    await t.make.enrollment(student.id, course.id);
    const client = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(student)}` });
    try {
      const sub = subscribe(client, LIVE, { c: gid('Course', course.id) });
      const create = (title: string) =>
        t.gql(CREATE_LESSON, { c: gid('Course', course.id), t: title }, { token: instructorToken });
      await primed(sub, () => create('probe'));
      let switched = false;
      const first = redis.masterPort();
      const newMaster = redis.waitNewMaster(first).then(() => void (switched = true));
      redis.failover();
      // Events all through the switch, and a few after it.
      const titles: string[] = [];
      for (let after = 0; after < 5; after += switched ? 1 : 0) {
        const title = `F${titles.length}`;
        titles.push(title);
        expect((await create(title)).errors).toBeUndefined();
      }
      await newMaster;
      const got: string[] = [];
      for (let i = 0; i < titles.length; i++) got.push((await sub.next(15_000)).data.lessonStatusChanged.lesson.title);
      expect(got).toEqual(titles);
      expect(await sub.quiet(500)).toBe(true);
    } finally {
      await client.dispose();
    }
  });

  it('keeps processing jobs across SENTINEL FAILOVER and a SIGKILL of the master', { timeout: 240_000 }, async () => {
    await notified((await startLesson()).lessonId);

    // Planned failover, with a mutation in the middle of it.
    const first = redis.masterPort();
    redis.failover();
    const during = await startLesson();
    const second = await redis.waitNewMaster(first);
    await notified(during.lessonId);
    await notified((await startLesson()).lessonId);

    // Crash: the master dies without a word; the Sentinels promote the other server.
    await redis.kill(second);
    const crashed = await startLesson();
    // The mutation commits in Postgres and answers; Redis is not on its path.
    expect(crashed.ms).toBeLessThan(t.app.config.graphql.operationTimeoutMs);
    const third = await redis.waitNewMaster(second);
    expect(third).toBe(first);
    await notified(crashed.lessonId);
    await notified((await startLesson()).lessonId);
  });

  it(
    'serves cached reads, never stale, and invalidates them across SENTINEL FAILOVER and a SIGKILL of the master',
    { timeout: 240_000 },
    async () => {
      const course = await t.make.course(instructor.id, { title: 'v0' });
      const id = gid('Course', course.id);
      /** The last title version whose rename was acknowledged. */
      let acked = 0;
      const rename = async (version: number) => {
        const res = await t.gql(RENAME_COURSE, { id, title: `v${version}` }, { token: instructorToken });
        expect(res.errors).toBeUndefined();
        acked = version;
      };
      /** An anonymous (cacheable) read: its status, errors, title version, and whether it was stale. */
      const read = async () => {
        const since = acked;
        const res = await t.gql(COURSE, { id });
        const version = Number((res.data as { course?: { title: string } } | undefined)?.course?.title.slice(1));
        return {
          status: res.status,
          errors: res.errors,
          version,
          stale: !(version >= since),
          since,
          cache: res.headers.get('x-cache'),
        };
      };
      const hits = (version: number) =>
        vi.waitFor(async () => expect(await read()).toMatchObject({ version, cache: 'HIT', stale: false }), {
          timeout: 30_000,
          interval: 200,
        });

      // The server the previous test killed comes back as a replica: something to fail over to,
      // and a replica to acknowledge the cache's invalidations (until one does, it bypasses).
      const master = redis.masterPort();
      for (const port of redis.killed()) await redis.restart(port, master);
      await redis.replicated(master);

      await hits(0);
      await rename(1);
      expect(await read()).toMatchObject({ status: 200, version: 1, stale: false });
      await hits(1);

      // Readers all the way through: every answer a 200 without errors, none older than the
      // last rename acknowledged before it was asked, none hanging.
      const problems: unknown[] = [];
      let phase = 'before';
      let answered = 0;
      let stop = false;
      const readers = Array.from({ length: 3 }, async () => {
        while (!stop) {
          let timer: NodeJS.Timeout | undefined;
          const hung = new Promise<{ hung: true }>((resolve) => (timer = setTimeout(resolve, 15_000, { hung: true })));
          const r = await Promise.race([read(), hung]).catch((err: unknown) => ({ failed: String(err) }));
          clearTimeout(timer);
          if (!('status' in r) || r.status !== 200 || r.errors || r.stale)
            problems.push({ ...r, phase, at: Date.now() });
          answered++;
        }
      });
      try {
        phase = 'failover';
        await redis.failoverWhenReady();
        const promoted = await redis.waitNewMaster(master);
        phase = 'after failover';
        await rename(2);
        expect(await read()).toMatchObject({ status: 200, version: 2, stale: false });
        await hits(2); // the cache works again, on the new master

        // Everything on the replica, then the master dies without a word.
        await redis.replicated(promoted);
        phase = 'kill';
        await redis.kill(promoted);
        await rename(3); // answered while no master exists; its invalidation is retried
        expect(await read()).toMatchObject({ status: 200, version: 3, stale: false });
        expect(await redis.waitNewMaster(promoted)).toBe(master);
        phase = 'after kill';
        await rename(4);
        expect(await read()).toMatchObject({ status: 200, version: 4, stale: false });
        // The killed server comes back as a replica (as a supervisor would bring it back): the
        // cache counts invalidations once a replica has them, and hits again.
        await redis.restart(promoted, master);
        await hits(4);
        // The last test needs a master with nothing to fail over to.
        await redis.kill(promoted);
      } finally {
        stop = true;
        await Promise.all(readers);
      }
      expect(problems).toEqual([]);
      expect(answered).toBeGreaterThan(0);
    },
  );

  it('closes with a live subscription open after its master is SIGKILLed, with no master to fail over to', async () => {
    const course = await t.make.course(instructor.id);
    await t.make.enrollment(student.id, course.id);
    const client = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(student)}` });
    try {
      const sub = subscribe(client, LIVE, { c: gid('Course', course.id) });
      await primed(sub, () =>
        t.gql(CREATE_LESSON, { c: gid('Course', course.id), t: 'probe' }, { token: instructorToken }),
      );
      // The other server was killed above: this master stays dead, and nothing will be promoted.
      await redis.kill(redis.masterPort());
      closed = true;
      const closing = t.close().then(() => 'closed');
      // A correctness bound, not a speed one: before the fix, close never resolved.
      const waited = new Promise((resolve) => setTimeout(resolve, 15_000, 'still closing'));
      expect(await Promise.race([closing, waited])).toBe('closed');
    } finally {
      await client.dispose();
    }
  });
});
