import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { Topics } from '../../src/pubsub/topics.js';
import { gid } from '../helpers/factories.js';
import { startRedisCluster, type RedisClusterProcess } from '../helpers/redis-cluster.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { followersOn } from '../helpers/live-followers.js';
import { primed, type LiveClient } from '../helpers/ws-client.js';

const SUB = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { cursor lesson { title } } }`;
const CREATE_LESSON = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;

/**
 * Two API processes on a real 6-node Redis Cluster with sharded pub/sub, subscribers on both,
 * events flowing: the master that serves the course's shard channel is SIGKILLed. What was
 * published while the subscriptions moved to the promoted replica is lost to pub/sub; each API
 * sees the loss in the course's chain of events (an event whose predecessor never arrived) and
 * replays it from the durable log first: every subscriber gets every event exactly once, in order.
 */
describe('live delivery on two APIs across a SIGKILL of the shard channel’s master', () => {
  let cluster: RedisClusterProcess;
  let apis: TestApp[] = [];
  let owner: UserRow;
  let ownerToken: string;
  const clients: LiveClient[] = [];
  let killed: number | undefined;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const env = { REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.seeds, REDIS_SHARDED_PUBSUB: 'true' };
    const a = await startTestApp(env);
    const b = await startTestApp({ ...env, DATABASE_URL: a.databaseUrl, REDIS_KEY_PREFIX: a.redisPrefix });
    apis = [a, b];
    owner = await a.make.user({ role: 'INSTRUCTOR' });
    ownerToken = await a.tokenFor(owner);
  });
  afterAll(async () => {
    try {
      await Promise.allSettled(clients.map((c) => c.dispose()));
      // The killed node back first: closing an app waits on its Redis connections.
      if (killed !== undefined) await cluster.restart(killed);
      await Promise.allSettled(apis.map((t) => t.close()));
    } finally {
      await cluster?.stop();
    }
  });

  it('gives every subscriber on both APIs every event exactly once, in order', { timeout: 120_000 }, async () => {
    const [a] = apis as [TestApp, TestApp];
    const course = await a.make.course(owner.id);
    const create = (title: string) =>
      a.gql(CREATE_LESSON, { c: gid('Course', course.id), t: title }, { token: ownerToken });
    const subs = await followersOn(apis, course.id, SUB, clients);
    await primed(subs, () => create('probe'));
    const primedWith = subs.map((sub) => sub.results.length); // the probes, taken

    const titles: string[] = [];
    const write = async () => {
      const title = `E${titles.length}`;
      titles.push(title);
      expect((await create(title)).errors).toBeUndefined();
    };
    for (let i = 0; i < 5; i++) await write();

    // SIGKILL the master serving the course's channel (both APIs' sharded subscribers use it).
    const channel = a.redisPrefix + Topics.lessonStatus(course.id);
    const owning = cluster.masterOf(channel);
    killed = owning;
    await cluster.kill(owning);
    // Events all through the failover, until every subscriber has the latest one: whatever
    // was lost on the way must have come from the log, before it.
    const received = subs.map(() => [] as string[]);
    const drain = async () => {
      for (const [i, sub] of subs.entries())
        while (sub.results.length > primedWith[i]! + received[i]!.length)
          received[i]!.push((await sub.next()).data.lessonStatusChanged.lesson.title);
    };
    let mark: string | undefined; // the event written at the previous check
    await vi.waitFor(
      async () => {
        await drain();
        const caughtUp = mark !== undefined && received.every((got) => got.includes(mark!));
        if (!caughtUp) {
          await write();
          mark = titles.at(-1);
        }
        expect(caughtUp).toBe(true);
      },
      { timeout: 60_000, interval: 250 },
    );
    expect(cluster.masterOf(channel)).not.toBe(owning);
    for (let i = 0; i < 3; i++) await write();
    await vi.waitFor(
      async () => {
        await drain();
        for (const got of received) expect(got).toHaveLength(titles.length);
      },
      { timeout: 15_000 },
    );
    for (const got of received) expect(got).toEqual(titles);
    for (const sub of subs) expect(await sub.quiet(300)).toBe(true); // nothing twice
  });
});
