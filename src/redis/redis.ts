import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
// ioredis' own close path (what its disconnect() runs for a connection that never connected).
import { closeHandler } from 'ioredis/built/redis/event_handler.js';
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

/*
 * ioredis' `disconnect()` on a connection waiting to reconnect (status `reconnecting`, its
 * retry timer pending: Redis is down, a master was killed) only cancels the timer: the
 * connection never reaches `end`, and what its offline queue holds never settles. BullMQ's
 * `Worker.close()` disconnects its blocking connection and waits for `end`, so a worker
 * closed while Redis was down waited forever. These two classes end such a connection the
 * way ioredis ends one that never connected (status `end`, queued commands rejected), for one
 * server or Sentinel and for a cluster; `duplicate()` keeps the fix in the connections BullMQ
 * makes from ours.
 */

/** A server or a Sentinel-managed master. */
class EndingRedis extends Redis {
  override disconnect(reconnect = false): void {
    const waitingToReconnect = !reconnect && this.status === 'reconnecting';
    super.disconnect(reconnect);
    if (waitingToReconnect && this.status === 'reconnecting') closeHandler(this)();
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new EndingRedis({ ...this.options, ...override });
  }
}

/** What Cluster's own disconnect() runs for a cluster that never connected (private in its types). */
interface ClusterClose {
  setStatus(status: 'close'): void;
  handleCloseEvent(): void;
}

/** A Redis Cluster. */
class EndingCluster extends Cluster {
  constructor(
    private readonly seeds: ClusterNode[],
    options: ClusterOptions,
  ) {
    super(seeds, options);
  }

  override disconnect(reconnect = false): void {
    const waitingToReconnect = !reconnect && this.status === 'reconnecting';
    super.disconnect(reconnect);
    if (!waitingToReconnect || this.status !== 'disconnecting') return;
    const closing = this as unknown as ClusterClose;
    closing.setStatus('close');
    closing.handleCloseEvent(); // manually closing: status `end`, queued commands rejected
  }

  override duplicate(overrideStartupNodes: ClusterNode[] = [], overrideOptions: ClusterOptions = {}): Cluster {
    const nodes = overrideStartupNodes.length > 0 ? overrideStartupNodes : this.seeds;
    return new EndingCluster(nodes, { ...this.options, ...overrideOptions });
  }
}

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
    redis = new EndingCluster(
      target.nodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
  } else if (target.kind === 'sentinel') {
    redis = new EndingRedis({
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
    redis = new EndingRedis(target.url, {
      ...perCommand,
      keyPrefix: options.keyPrefix,
      enableAutoPipelining: autoPipelining,
      retryStrategy,
    });
  }
  redis.on('error', (err) => log.warn({ err, connection: name }, 'redis connection error'));
  return redis;
}
