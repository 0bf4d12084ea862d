import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisResponseStore, CLUSTER_CACHE_GROUPS } from '../../src/cache/response-store.js';
import { queuePrefix } from '../../src/queue/index.js';
import { RedisAttemptStore } from '../../src/throttle/redis-attempt-store.js';
import { LOGIN, userWithPassword } from '../helpers/accounts.js';
import { codesOf } from '../helpers/graphql-client.js';
import { redisCli, startRedisCluster, type RedisClusterProcess } from '../helpers/redis-cluster.js';
import { crossSlotErrors } from '../helpers/redis-topology.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CATALOG = `query Catalog($first: Int) { courses(first: $first) { totalCount edges { node { id title } } } }`;
const policy = { free: 5, baseMs: 1_000, maxMs: 60_000, windowMs: 60_000 };

/**
 * What the cluster suites (npm run test:scale's `cluster` project) do not reach on their own:
 * the throttle and the APQ store through the API, and the negative control: the same
 * operations with the single-Redis key layout (no hash tags) fail with CROSSSLOT on this
 * cluster, so the detector used for the whole run is shown to catch them.
 */
describe('Redis Cluster: slot-correct keys', () => {
  let cluster: RedisClusterProcess;
  let t: TestApp;
  let client: Cluster;
  const crossSlot = () =>
    crossSlotErrors(
      cluster.nodes.map((n) => n.port),
      redisCli,
    );

  beforeAll(async () => {
    cluster = await startRedisCluster();
    t = await startTestApp({ REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.seeds, NOTIFICATION_WORKER: 'on' });
    client = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
  });
  afterAll(async () => {
    client?.disconnect();
    try {
      await t?.close();
    } finally {
      await cluster?.stop();
    }
  });

  it('throttles sign-ins, caches, invalidates and keeps persisted queries without a CROSSSLOT', async () => {
    const user = await userWithPassword(t, 'correct horse battery staple');
    // Wrong passwords until the throttle refuses: the reservation spans several keys at once.
    let refused = false;
    for (let i = 0; i < 12 && !refused; i++) {
      const res = await t.gql(LOGIN, { input: { email: user.email, password: `wrong password ${i}` } });
      refused = codesOf(res).includes('RATE_LIMITED');
    }
    expect(refused).toBe(true);
    // The counters are on the cluster (the in-memory fallback would hold them otherwise).
    const throttleKeys = await client.keys(`${t.redisPrefix}{throttle}:*`);
    const onEveryMaster = await Promise.all(
      client.nodes('master').map((n) => n.keys(`${t.redisPrefix}{throttle}:login:*`)),
    );
    expect(throttleKeys.length + onEveryMaster.flat().length).toBeGreaterThan(0);

    // The response cache: a hit, then a write invalidates it on every group.
    await t.gql(CATALOG, { first: 3 });
    expect((await t.gql(CATALOG, { first: 3 })).headers.get('x-cache')).toBe('HIT');
    await t.app.responseCache.invalidate(['Course:list']);
    expect((await t.gql(CATALOG, { first: 3 })).headers.get('x-cache')).not.toBe('HIT');

    // APQ: a hash registered with its query is then served from the hash alone.
    const query = '{ courses(first: 1) { totalCount } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const post = async (body: object) => {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as { errors?: unknown[]; data?: { courses: { totalCount: number } } };
    };
    expect((await post({ query, extensions })).errors).toBeUndefined();
    const byHash = await post({ extensions });
    expect(byHash.errors).toBeUndefined();
    expect(byHash.data?.courses.totalCount).toEqual(expect.any(Number));

    expect(crossSlot()).toBe(0);
  });

  it('fails with CROSSSLOT when the keys are not hash-tagged (negative control)', async () => {
    const before = crossSlot();
    const prefix = `${t.redisPrefix}control:`;
    const untagged = new Cluster(
      cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      { keyPrefix: prefix },
    );
    const untaggedQueue = new Queue('control', { connection: client, prefix: `${prefix}bull` });
    const taggedQueue = new Queue('control', { connection: client, prefix: queuePrefix(prefix) });
    try {
      // BullMQ: the old prefix (no tag) cannot add a job; the tagged one can.
      await expect(untaggedQueue.add('x', {})).rejects.toThrow(/CROSSSLOT/);
      await expect(taggedQueue.add('x', {})).resolves.toBeDefined();
      // The response cache's single-Redis layout vs. its per-slot groups.
      await expect(new RedisResponseStore(untagged, 1).set('k', 'v', 60, ['A:1', 'B:2'], 0)).rejects.toThrow(
        /CROSSSLOT/,
      );
      const grouped = new RedisResponseStore(untagged, CLUSTER_CACHE_GROUPS);
      expect(await grouped.set('k', 'v', 60, ['A:1', 'B:2'], 0)).toBe(true);
      await grouped.invalidate(['A:1']);
      expect((await grouped.get('k')).value).toBeNull();
      // The throttle's multi-key reservation.
      const keys = [
        { key: 'login:ip:1', policy, weight: 1 },
        { key: 'login:account:x', policy, weight: 1 },
      ];
      await expect(new RedisAttemptStore(untagged, false).attempt(keys)).rejects.toThrow(/CROSSSLOT/);
      await expect(new RedisAttemptStore(untagged, true).attempt(keys)).resolves.toEqual({ allowed: true });
      // The detector the whole cluster run relies on counted the refused commands.
      expect(crossSlot() - before).toBeGreaterThanOrEqual(3);
    } finally {
      await untaggedQueue.close();
      await taggedQueue.close();
      untagged.disconnect();
    }
  });
});
