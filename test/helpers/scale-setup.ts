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
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    let errors: number, commands: number, publish: number, spublish: number;
    try {
      errors = crossSlotErrors(alive, redisCli);
      // The suites really ran against the cluster (not a Redis named elsewhere)...
      commands = sum(
        alive.map((port) => Number(/total_commands_processed:(\d+)/.exec(redisCli(port, 'info', 'stats'))?.[1] ?? 0)),
      );
      // ...with the pub/sub commands the run asked for.
      const calls = (command: string) =>
        sum(
          alive.map((port) => {
            const stats = redisCli(port, 'info', 'commandstats');
            return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
          }),
        );
      [publish, spublish] = [calls('publish'), calls('spublish')];
    } finally {
      await cluster.stop();
    }
    if (errors > 0) throw new Error(`the Redis Cluster answered ${errors} CROSSSLOT errors during the run`);
    if (commands < 1_000) throw new Error(`the Redis Cluster served only ${commands} commands: was it used?`);
    if (sharded ? spublish === 0 || publish > 0 : publish === 0)
      throw new Error(`pub/sub did not use the expected commands (PUBLISH ${publish}, SPUBLISH ${spublish})`);
    console.log(
      `test:scale: the cluster served ${commands} commands, 0 CROSSSLOT, PUBLISH ${publish}, SPUBLISH ${spublish}`,
    );
  };
}
