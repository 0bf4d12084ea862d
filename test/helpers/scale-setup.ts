import type { TestProject } from 'vitest/node';
import { redisCli, startRedisCluster } from './redis-cluster.js';
import { crossSlotErrors } from './redis-topology.js';

/**
 * Global setup of `npm run test:scale`: a six-node Redis Cluster for the whole run (the suites
 * chosen in vitest.scale.config.ts run against it instead of the shared Redis). Teardown
 * fails the run if any node ever answered CROSSSLOT, whichever test caused it.
 */
export default async function setup(project: TestProject) {
  const cluster = await startRedisCluster();
  const sharded = project.config.env?.TEST_SHARDED_PUBSUB === 'true';
  project.provide('redisTopology', {
    clusterSeeds: cluster.seeds,
    shardedPubSub: sharded,
    clusterPorts: cluster.nodes.map((n) => n.port),
  });
  return async () => {
    const alive = cluster.nodes.filter((n) => n.child.exitCode === null).map((n) => n.port);
    const errors = crossSlotErrors(alive, redisCli);
    // The suites really ran against the cluster (not a Redis named elsewhere).
    const commands = alive
      .map((port) => Number(/total_commands_processed:(\d+)/.exec(redisCli(port, 'info', 'stats'))?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    await cluster.stop();
    if (errors > 0) throw new Error(`the Redis Cluster answered ${errors} CROSSSLOT errors during the run`);
    if (commands < 1_000) throw new Error(`the Redis Cluster served only ${commands} commands: was it used?`);
    console.log(`test:scale: the Redis Cluster served ${commands} commands, 0 CROSSSLOT`);
  };
}
