import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { inject } from 'vitest';
import { TEST_REDIS_URL } from './env.js';

/**
 * Which Redis the tests run against. The default suite uses the shared server
 * (TEST_REDIS_URL); `npm run test:scale` runs chosen suites again against a Redis Cluster its
 * global setup starts (test/helpers/scale-setup.ts), so the same assertions hold on both.
 */
export interface RedisTopology {
  /** Seed nodes of the test cluster, when the run has one. */
  clusterSeeds?: string;
  shardedPubSub?: boolean;
  /** The cluster's node ports (to inspect them). */
  clusterPorts?: number[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisTopology: RedisTopology;
  }
}

function redisTopology(): RedisTopology {
  try {
    return inject('redisTopology') ?? {};
  } catch {
    return {};
  }
}

export const onCluster = (): boolean => redisTopology().clusterSeeds !== undefined;

/** The configuration variables naming the test Redis (only the ones set). */
export function testRedisEnv(): Record<string, string> {
  const { clusterSeeds, shardedPubSub } = redisTopology();
  if (!clusterSeeds) return { REDIS_URL: TEST_REDIS_URL };
  return { REDIS_CLUSTER_NODES: clusterSeeds, REDIS_SHARDED_PUBSUB: String(shardedPubSub ?? false) };
}

/** A client of the test Redis, whichever it is (for tests that look inside it). */
export function testRedisClient(options: RedisOptions = {}): Redis | Cluster {
  const { clusterSeeds } = redisTopology();
  if (!clusterSeeds) return new Redis(TEST_REDIS_URL, options);
  const { keyPrefix, ...perNode } = options;
  return new Cluster(
    clusterSeeds.split(',').map((s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) })),
    { keyPrefix, redisOptions: perNode },
  );
}

/**
 * Subscribers of each channel across the deployment: on a cluster, classic subscriptions are
 * counted on every node (each node knows only its own clients) and sharded ones too.
 */
export async function subscriberCounts(channels: string[]): Promise<number[]> {
  const client = testRedisClient();
  try {
    const nodes = client instanceof Cluster ? await clusterNodes(client) : [client];
    const counts = channels.map(() => 0);
    for (const node of nodes) {
      for (const kind of ['NUMSUB', 'SHARDNUMSUB'] as const) {
        const reply = (await node.call('PUBSUB', kind, ...channels)) as Array<string | number>;
        for (let i = 0; i < channels.length; i++) counts[i]! += Number(reply[2 * i + 1]);
      }
    }
    return counts;
  } finally {
    client.disconnect();
  }
}

async function clusterNodes(cluster: Cluster): Promise<Redis[]> {
  await new Promise<void>((resolve, reject) => {
    if (cluster.status === 'ready') return resolve();
    cluster.once('ready', () => resolve());
    cluster.once('error', reject);
  });
  return cluster.nodes('all');
}

/**
 * CROSSSLOT errors every node of the test cluster has answered since it started: any one
 * means some command touched keys of several slots (a script, MGET, a transaction).
 */
export function crossSlotErrors(ports: number[], cli: (port: number, ...args: string[]) => string): number {
  let total = 0;
  for (const port of ports) {
    const match = /errorstat_CROSSSLOT:count=(\d+)/.exec(cli(port, 'info', 'errorstats'));
    total += match ? Number(match[1]) : 0;
  }
  return total;
}
