import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Redis } from 'ioredis';

/**
 * Automatic persisted queries (Apollo's APQ protocol) kept in Redis, so a hash registered
 * through one API instance is known to all. Losing an entry only costs the client one retry
 * with the full query, so this lives on the cache Redis; Apollo wraps it so errors count as
 * misses (PERSISTED_QUERY_NOT_FOUND), never as failures.
 */
export class RedisApqStore implements KeyValueCache<string> {
  constructor(
    private readonly redis: Redis,
    private readonly defaultTtlSeconds: number,
    /** A slow Redis makes a lookup a miss (the client resends the query) rather than a wait. */
    private readonly readTimeoutMs: number,
  ) {}

  async get(key: string): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const read = this.redis.get(`apq:${key}`);
    read.catch(() => {});
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('APQ store did not answer in time')), this.readTimeoutMs);
    });
    try {
      return (await Promise.race([read, timeout])) ?? undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl ?? this.defaultTtlSeconds;
    await this.redis.set(`apq:${key}`, value, 'EX', Math.max(1, Math.round(ttl)));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(`apq:${key}`)) > 0;
  }
}
