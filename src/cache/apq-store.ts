import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { RedisClient } from '../redis/redis.js';
import { withTimeout } from '../util/with-timeout.js';

/**
 * Automatic persisted queries (Apollo's APQ protocol) kept in Redis, so a hash registered
 * through one API instance is known to all. Losing an entry only costs the client one retry
 * with the full query, so this lives on the cache Redis; Apollo wraps it so errors count as
 * misses (PERSISTED_QUERY_NOT_FOUND), never as failures.
 */
export class RedisApqStore implements KeyValueCache<string> {
  constructor(
    private readonly redis: RedisClient,
    private readonly defaultTtlSeconds: number,
    /** A slow Redis makes a lookup a miss (the client resends the query) rather than a wait. */
    private readonly readTimeoutMs: number,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await withTimeout(this.redis.get(`apq:${key}`), this.readTimeoutMs, 'the APQ store')) ?? undefined;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl ?? this.defaultTtlSeconds;
    await this.redis.set(`apq:${key}`, value, 'EX', Math.max(1, Math.round(ttl)));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(`apq:${key}`)) > 0;
  }
}
