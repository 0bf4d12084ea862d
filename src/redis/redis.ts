import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config, RedisTarget } from '../config/config.js';
import type { Logger } from '../logging/logger.js';

/** A connection to any of the deployments EduFlow supports: one server, Sentinel, or a cluster. */
export type RedisClient = Redis | Cluster;

export type RedisSettings = NonNullable<Config['redis']>;

export interface RedisConnectionOptions {
  /** Prepended to every key (not to channels). BullMQ's connections must have none. */
  keyPrefix?: string;
  /** While disconnected, commands fail at once instead of waiting for a reconnect. */
  failFast?: boolean;
  /** A Redis that accepts the connection but does not answer cannot hang a request. */
  commandTimeoutMs?: number;
  /** For BullMQ workers' blocking reads: retry forever, no command timeout. */
  blocking?: boolean;
  /** Sends commands issued in the same tick as one pipeline (default: on, except blocking). */
  autoPipelining?: boolean;
  /** Cluster only: SSUBSCRIBE goes to the shard that owns each channel's slot. */
  shardedSubscribers?: boolean;
}

const retryStrategy = (times: number) => Math.min(times * 200, 2_000);

/**
 * The one place a Redis connection is made. Every connection carries its name (CLIENT LIST
 * shows which part of EduFlow it is); the topology comes from the configuration, so the rest
 * of the code does not know whether it talks to one server, a Sentinel-managed master or a
 * cluster (only the key layout does: see the hash tags where keys are named).
 */
export function createRedis(
  settings: RedisSettings,
  target: RedisTarget,
  log: Logger,
  name: string,
  options: RedisConnectionOptions = {},
): RedisClient {
  const autoPipelining = options.autoPipelining ?? !options.blocking;
  const perCommand: RedisOptions = {
    connectionName: `eduflow:${name}`,
    maxRetriesPerRequest: options.blocking ? null : 2,
    commandTimeout: options.blocking ? undefined : options.commandTimeoutMs,
    enableOfflineQueue: !options.failFast,
  };
  const auth: RedisOptions =
    target.kind === 'standalone' ? {} : { password: settings.password, tls: settings.tls ? {} : undefined };
  let redis: RedisClient;
  if (target.kind === 'cluster') {
    const clusterOptions: ClusterOptions = {
      keyPrefix: options.keyPrefix,
      enableOfflineQueue: !options.failFast,
      enableAutoPipelining: autoPipelining,
      clusterRetryStrategy: retryStrategy,
      // During a failover the slots move: a command is retried on the new owner (MOVED and
      // TRYAGAIN are followed, never returned to the caller) within its retry budget.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 2_000,
      shardedSubscribers: options.shardedSubscribers ?? false,
      redisOptions: { ...perCommand, ...auth },
    };
    redis = new Cluster(
      target.nodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
  } else if (target.kind === 'sentinel') {
    redis = new Redis({
      ...perCommand,
      ...auth,
      sentinelPassword: settings.password,
      sentinels: target.sentinels.map((n) => ({ host: n.host, port: n.port })),
      name: target.name,
      keyPrefix: options.keyPrefix,
      enableAutoPipelining: autoPipelining,
      retryStrategy,
      sentinelRetryStrategy: retryStrategy,
      // Not ioredis' failoverDetector: its disconnect on +switch-master, arriving while the
      // connection is still asking the Sentinels, ends the connection for good (ioredis
      // gives up after a connector error), which left workers without Redis after a crash.
      // A dead master's socket closes or times out (commandTimeout); the reconnect then
      // asks the Sentinels again.
      // A demoted master answers writes with READONLY: reconnect (Sentinel names the new one).
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    });
  } else {
    redis = new Redis(target.url, {
      ...perCommand,
      keyPrefix: options.keyPrefix,
      enableAutoPipelining: autoPipelining,
      retryStrategy,
    });
  }
  redis.on('error', (err) => log.warn({ err, connection: name }, 'redis connection error'));
  return redis;
}
