import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { RedisWalPositions } from '../db/replicas/wal-positions.js';
import type { Logger } from '../logging/logger.js';
import { createRedis } from '../redis/redis.js';

/**
 * With read replicas and Redis: users' WAL positions in Redis, so every instance honours a
 * write made through another. On the non-evicting Redis (REDIS_URL's): an evicted position
 * would let its author read a replica that has not replayed their write. Resolves with what
 * closes the connection; nothing to do without replicas (and a map in one process without Redis).
 */
export function shareWalPositions(config: Config, database: Database, log: Logger): () => void {
  const r = config.redis;
  if (!database.replicas || !r) return () => {};
  const redis = createRedis(r, r.target, log, 'wal-positions', {
    keyPrefix: r.keyPrefix,
    commandTimeoutMs: r.commandTimeoutMs,
  });
  database.replicas.usePositions(new RedisWalPositions(redis, ''));
  return () => redis.disconnect();
}
