import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { BullJobQueue } from './bullmq-queue.js';
import type { JobQueue } from './jobs.js';
import { MemoryJobQueue } from './memory-queue.js';

export * from './jobs.js';

/** BullMQ when REDIS_URL is set; the in-process twin otherwise. */
export function createJobQueue(config: Config, log: Logger): JobQueue {
  const settings = config.jobs;
  if (!config.redis) return new MemoryJobQueue(settings, log);
  return new BullJobQueue(config.redis.url, `${config.redis.keyPrefix}bull`, settings, log);
}
