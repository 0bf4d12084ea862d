import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { createRedis } from '../redis/redis.js';
import { BullJobQueue } from './bullmq-queue.js';
import type { JobQueue } from './jobs.js';
import { MemoryJobQueue } from './memory-queue.js';

export * from './jobs.js';

/**
 * BullMQ's key prefix. The hash tag ({...}) keeps every key of every queue in one slot, as a
 * Redis Cluster requires of BullMQ's multi-key scripts; the same prefix is used on a single
 * Redis, so a deployment can move to a cluster without renaming its queues again.
 * Deployments from before the tag used `<REDIS_KEY_PREFIX>bull` (see the README's migration note).
 */
export function queuePrefix(keyPrefix: string): string {
  return `{${keyPrefix}bull}`;
}

/** BullMQ when a Redis is configured; the in-process twin otherwise. */
export function createJobQueue(config: Config, log: Logger): JobQueue {
  const settings = config.jobs;
  const redis = config.redis;
  if (!redis) return new MemoryJobQueue(settings, log);
  return new BullJobQueue(
    (name, blocking) =>
      createRedis(redis, redis.target, log, name, blocking ? { blocking } : { autoPipelining: false }),
    queuePrefix(redis.keyPrefix),
    settings,
    log,
    settings.drainMs,
  );
}
