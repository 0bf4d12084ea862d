import { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';

/**
 * An ioredis connection with the deployment's key prefix (so several deployments, or test
 * runs, can share one Redis). Commands fail fast instead of queueing forever while Redis is
 * away; the readiness check reports it.
 */
export function createRedis(
  url: string,
  keyPrefix: string,
  log: Logger,
  name: string,
  options: { failFast?: boolean; commandTimeoutMs?: number } = {},
): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    connectionName: `eduflow:${name}`,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
    // failFast: while disconnected, commands fail at once instead of waiting for a reconnect.
    enableOfflineQueue: !options.failFast,
    // A Redis that accepts the connection but does not answer cannot hang a request.
    commandTimeout: options.commandTimeoutMs,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', (err) => log.warn({ err, connection: name }, 'redis connection error'));
  return redis;
}
