import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { createEventBus, type EventBus } from '../../src/pubsub/event-bus.js';
import { redisCli, startRedisCluster, type RedisClusterProcess } from '../helpers/redis-cluster.js';

const log = createLogger('silent');

/**
 * REDIS_SHARDED_PUBSUB=true on a real cluster: an event is published to the one shard that
 * owns its channel (not copied to every node), every subscriber of another process hears it,
 * and after the owning master is killed the subscription follows the slot to the promoted
 * replica by itself.
 */
describe('sharded pub/sub on a Redis Cluster', () => {
  let cluster: RedisClusterProcess;
  let publisher: EventBus;
  let subscriber: EventBus;
  const prefix = `eduflow:sharded:${process.pid}:`;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const config = loadConfig({
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_SHARDED_PUBSUB: 'true',
      REDIS_KEY_PREFIX: prefix,
    });
    publisher = createEventBus(config, log);
    subscriber = createEventBus(config, log);
  });
  afterAll(async () => {
    try {
      await publisher?.close();
      await subscriber?.close();
    } finally {
      await cluster?.stop();
    }
  });

  it('delivers through the owning shard only, and survives a master failover', async () => {
    const topics = Array.from({ length: 12 }, (_, i) => `course.${i}.activity`);
    const got = new Map<string, unknown[]>(topics.map((t) => [t, []]));
    const stops = await Promise.all(topics.map((t) => subscriber.subscribe(t, (p) => got.get(t)!.push(p))));
    for (const t of topics) await publisher.publish(t, { n: 1 });
    await vi.waitFor(() => expect([...got.values()].every((v) => v.length === 1)).toBe(true), { timeout: 10_000 });

    // Each channel is subscribed on its slot's master only; no classic PUBLISH was used.
    const channel = prefix + topics[0]!;
    const owner = cluster.masterOf(channel);
    for (const master of cluster.masters()) {
      const [, count] = redisCli(master, 'pubsub', 'shardnumsub', channel).trim().split('\n');
      expect(Number(count), `node ${master}`).toBe(master === owner ? 1 : 0);
    }
    for (const n of cluster.nodes) expect(redisCli(n.port, 'info', 'commandstats')).not.toMatch(/cmdstat_publish:/);

    // SIGKILL the owner: its replica takes the slot, the subscriber follows it.
    await cluster.kill(owner);
    await cluster.waitHealthy();
    // Published until heard: events sent while the subscription moves are lost to pub/sub
    // (live delivery heals those from the durable log, not from Redis).
    let n = 1;
    await vi.waitFor(
      async () => {
        await publisher.publish(topics[0]!, { n: ++n }).catch(() => {});
        expect(got.get(topics[0]!)!.length).toBeGreaterThan(1);
      },
      { timeout: 30_000, interval: 300 },
    );
    expect(cluster.masterOf(channel)).not.toBe(owner);
    for (const stop of stops) stop();
  });
});
