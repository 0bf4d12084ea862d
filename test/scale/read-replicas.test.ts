import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import type { UserRow } from '../../src/db/schema.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { gid } from '../helpers/factories.js';
import { REPLICA_READER, startPrimaryWithReplica, type PrimaryWithReplica } from '../helpers/pg-replica.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const RENAME = `mutation($name: String!) { updateProfile(input: { displayName: $name }) { displayName } }`;
const USER = `query($id: ID!) { user(id: $id) { displayName } }`;
const COURSE = `query($id: ID!) { course(id: $id) { title } }`;
const UPDATE_COURSE = `mutation($id: ID!, $title: String!) { updateCourse(input: { id: $id, title: $title }) { title } }`;

/** The app's counter of reads by where they ran. */
const reads = async (app: App, target: 'primary' | 'replica') =>
  (await app.metrics.dbReads.get()).values.find((v) => v.labels.target === target)?.value ?? 0;
const fallbacks = async (app: App, reason: string) =>
  (await app.metrics.replicaFallbacks.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

/**
 * Queries read from a streaming replica (pg_basebackup -R of a private primary, read with a
 * role that cannot write), and still show every caller their own writes: the primary's WAL
 * position after a write is kept per user in Redis, and their reads use a replica only once
 * it has replayed it. Replay is paused with pg_wal_replay_pause() to make the replica stale
 * on demand. One primary and replica for the file; two apps over them (cache off and on).
 */
describe('read replicas', () => {
  let pg: PrimaryWithReplica;
  let t: TestApp;
  let cached: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    pg = await startPrimaryWithReplica();
    const env = {
      DATABASE_URL: pg.primaryUrl,
      DATABASE_REPLICA_URLS: pg.replicaUrl,
      REPLICA_MAX_LAG_SECONDS: '3600',
      REPLICA_HEALTH_CHECK_MS: '200',
    };
    t = await startTestApp({ ...env, CACHE_ENABLED: 'false' });
    cached = await startTestApp({ ...env, DB_MIGRATE_ON_START: 'false' });
    redis = new Redis(TEST_REDIS_URL);
    for (const app of [t.app, cached.app])
      await vi.waitFor(() => expect(app.database.replicas!.replicas[0]!.state).toBe('ok'), { timeout: 20_000 });
  });
  afterAll(async () => {
    await Promise.allSettled([t?.close(), cached?.close()]);
    redis?.disconnect();
    await pg?.destroy();
  });

  /** Waits until the replica holds this user (replayed), so a paused replica has them. */
  const replayed = (userId: string) =>
    vi.waitFor(async () => expect(await pg.replicaAdmin`select 1 from users where id = ${userId}`).toHaveLength(1), {
      timeout: 10_000,
    });

  const signedIn = async (app: TestApp, role: UserRow['role'] = 'STUDENT') => {
    const user = await app.make.user({ role });
    await replayed(user.id);
    return { user, token: await app.tokenFor(user) };
  };
  const nameOf = async (user: UserRow, token: string) => {
    const res = await t.gql(USER, { id: gid('User', user.id) }, { token });
    expect(res.errors).toBeUndefined();
    return (res.data as { user: { displayName: string } }).user.displayName;
  };

  it('serves queries from the replica and writes on the primary (the replica role cannot write)', async () => {
    const { user, token } = await signedIn(t);
    const before = await reads(t.app, 'replica');
    expect(await nameOf(user, token)).toBe(user.displayName);
    expect(await reads(t.app, 'replica')).toBeGreaterThan(before);
    const res = await t.gql(RENAME, { name: 'Written on the primary' }, { token });
    expect(res.errors).toBeUndefined();
    // The replica's role is read-only wherever it connects: a write routed to it would fail loudly.
    const reader = postgres(pg.primaryUrl.replace('postgres@', `${REPLICA_READER}@`), { max: 1 });
    try {
      await expect(reader`create table written_by_reader (id int)`).rejects.toMatchObject({ code: '25006' });
    } finally {
      await reader.end();
    }
  });

  it("shows a caller their own write while the replica has not replayed it; without their position they would see the replica's old data", async () => {
    const { user, token } = await signedIn(t);
    await pg.pauseReplay();
    try {
      const res = await t.gql(RENAME, { name: 'Renamed' }, { token });
      expect(res.errors).toBeUndefined();
      const behind = await fallbacks(t.app, 'behind');
      expect(await nameOf(user, token)).toBe('Renamed');
      expect(await fallbacks(t.app, 'behind')).toBeGreaterThan(behind);
      // Negative control: the same caller with their recorded position gone reads the replica,
      // which is still stale.
      expect(await redis.del(`${t.redisPrefix}wal:${user.id}`)).toBe(1);
      expect(await nameOf(user, token)).toBe(user.displayName);
    } finally {
      await pg.resumeReplay();
    }
    await vi.waitFor(async () => expect(await nameOf(user, token)).toBe('Renamed'), { timeout: 10_000 });
  });

  it('never caches an answer read from a replica that had not replayed the write whose invalidation came first', async () => {
    const { user: instructor, token } = await signedIn(cached, 'INSTRUCTOR');
    const course = await cached.make.course(instructor.id, { title: 'Old title' });
    await vi.waitFor(
      async () => expect(await pg.replicaAdmin`select 1 from courses where id = ${course.id}`).toHaveLength(1),
      { timeout: 10_000 },
    );
    const title = async () => {
      const res = await cached.gql(COURSE, { id: gid('Course', course.id) });
      expect(res.errors).toBeUndefined();
      return { title: (res.data as { course: { title: string } }).course.title, cache: res.headers.get('x-cache') };
    };
    expect(await title()).toEqual({ title: 'Old title', cache: 'MISS' });
    await pg.pauseReplay();
    try {
      const res = await cached.gql(UPDATE_COURSE, { id: gid('Course', course.id), title: 'New title' }, { token });
      expect(res.errors).toBeUndefined();
      // Anonymous: no position of theirs; the miss after the invalidation fills the cache.
      expect(await title()).toEqual({ title: 'New title', cache: 'MISS' });
    } finally {
      await pg.resumeReplay();
    }
    expect(await title()).toEqual({ title: 'New title', cache: 'HIT' });
  });

  it('answers every request while the replica stops, and uses it again once it is back', async () => {
    const { user, token } = await signedIn(t);
    let stop = false;
    const failures: unknown[] = [];
    let answered = 0;
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const res = await t.gql(USER, { id: gid('User', user.id) }, { token });
        if (res.errors || res.status !== 200) failures.push(res.errors ?? res.status);
        answered++;
      }
    });
    try {
      await vi.waitFor(() => expect(answered).toBeGreaterThan(20), { timeout: 15_000 });
      await pg.stopReplica();
      await vi.waitFor(() => expect(t.app.database.replicas!.replicas[0]!.state).toBe('down'), { timeout: 15_000 });
      const primary = await reads(t.app, 'primary');
      await vi.waitFor(async () => expect(await reads(t.app, 'primary')).toBeGreaterThan(primary + 20), {
        timeout: 15_000,
      });
    } finally {
      stop = true;
      await Promise.all(load);
    }
    expect(failures).toEqual([]);
    await pg.startReplica();
    await vi.waitFor(() => expect(t.app.database.replicas!.replicas[0]!.state).toBe('ok'), { timeout: 20_000 });
    const before = await reads(t.app, 'replica');
    expect(await nameOf(user, token)).toBe(user.displayName);
    expect(await reads(t.app, 'replica')).toBeGreaterThan(before);
  });

  it('skips a replica lagging beyond REPLICA_MAX_LAG_SECONDS and takes it back once it has caught up', async () => {
    const lagging = await startTestApp({
      DATABASE_URL: pg.primaryUrl,
      DATABASE_REPLICA_URLS: pg.replicaUrl,
      DB_MIGRATE_ON_START: 'false',
      CACHE_ENABLED: 'false',
      REPLICA_MAX_LAG_SECONDS: '1',
      REPLICA_HEALTH_CHECK_MS: '200',
    });
    try {
      const replica = lagging.app.database.replicas!.replicas[0]!;
      await vi.waitFor(() => expect(replica.state).toBe('ok'), { timeout: 20_000 });
      const { user, token } = await signedIn(lagging);
      await pg.pauseReplay();
      try {
        await lagging.make.user(); // WAL the replica does not replay
        await vi.waitFor(() => expect(replica.state).toBe('lagging'), { timeout: 10_000 });
        const unavailable = await fallbacks(lagging.app, 'unavailable');
        const res = await lagging.gql(USER, { id: gid('User', user.id) }, { token });
        expect(res.errors).toBeUndefined();
        expect(await fallbacks(lagging.app, 'unavailable')).toBeGreaterThan(unavailable);
        const metrics = await (await fetch(new URL('/metrics', lagging.url))).text();
        const lag = metrics.match(/^eduflow_db_replica_lag_seconds\{replica="[^"]+"\} (\S+)$/m);
        expect(Number(lag?.[1])).toBeGreaterThan(1);
      } finally {
        await pg.resumeReplay();
      }
      await vi.waitFor(() => expect(replica.state).toBe('ok'), { timeout: 10_000 });
      const before = await reads(lagging.app, 'replica');
      const res = await lagging.gql(USER, { id: gid('User', user.id) }, { token });
      expect(res.errors).toBeUndefined();
      expect(await reads(lagging.app, 'replica')).toBeGreaterThan(before);
      const metrics = await (await fetch(new URL('/metrics', lagging.url))).text();
      expect(metrics).toMatch(/^eduflow_db_reads_total\{target="replica"\} \d+/m);
      expect(metrics).toMatch(/^eduflow_db_replica_fallbacks_total\{reason="unavailable"\} \d+/m);
    } finally {
      await lagging.close();
    }
  });
});
