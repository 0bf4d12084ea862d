import type { RedisClient } from '../redis/redis.js';

/** What a read returns: the entry (if any), and the invalidation generation seen before it. */
export interface CacheRead {
  value: string | null;
  generation: number;
}

/**
 * Whole responses, tagged with the entities they contain. Shared by every API instance
 * (Redis) or per process (memory, the embedded mode).
 *
 * Staleness is ruled out by generations: `invalidate` bumps a global generation and stamps
 * each tag with it; `set` stores nothing if any of its tags was invalidated after the
 * generation its request read before executing. So a response computed from data a
 * concurrent write has changed is never stored, whatever the interleaving, and entries that
 * were stored before the write are deleted by it.
 */
export interface ResponseStore {
  get(key: string): Promise<CacheRead>;
  /** The entry as bytes (what a cache hit writes to the socket), without decoding it. */
  getBytes(key: string): Promise<Buffer | null>;
  /**
   * The first `length` bytes of the entry (a record's ETag), or null when there is none: what
   * a copy held in the process is checked against before it is served (see `ResponseCache`).
   */
  getPrefix(key: string, length: number): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number, tags: readonly string[], generation: number): Promise<boolean>;
  invalidate(tags: readonly string[]): Promise<void>;
}

/**
 * Version stamps only guard requests in flight (bounded by OPERATION_TIMEOUT_MS), so they live
 * a minute; being the most recently written keys, eviction reaches them last.
 */
const TAG_VERSION_TTL_SECONDS = 60;

// Redis layout (all under the deployment's key prefix):
//   rc:e:<key>  the response (TTL = its max-age; evictable)
//   rc:t:<tag>  sorted set of entry keys scored by their expiry (no TTL: an LRU Redis with
//               volatile-lru never evicts it; expired members are trimmed on every store)
//   rc:v:<tag>  the generation that last invalidated the tag (short TTL)
//   rc:gen      the invalidation generation (no TTL)
const SET_SCRIPT = `
local n = tonumber(ARGV[4])
for i = 1, n do
  local v = tonumber(redis.call('GET', KEYS[n + 1 + i]) or '0')
  if v > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local now = tonumber(ARGV[5])
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[1 + i], '-inf', now)
  redis.call('ZADD', KEYS[1 + i], now + tonumber(ARGV[2]), KEYS[1])
end
return 1`;

const INVALIDATE_SCRIPT = `
local n = tonumber(ARGV[1])
local gen = redis.call('INCR', KEYS[2 * n + 1])
for i = 1, n do
  local members = redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[3], '+inf')
  for j = 1, #members, 500 do
    redis.call('UNLINK', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('UNLINK', KEYS[i])
  redis.call('SET', KEYS[n + i], gen, 'EX', ARGV[2])
end
return gen`;

/**
 * On a Redis Cluster every script must touch one slot, but an entry's tags are shared with
 * entries anywhere. The layout above is therefore kept per group: an entry belongs to one of
 * GROUPS groups (by a hash of its key), and the group's hash tag ({rcN}) puts the entry, its
 * group's generation and the group's tag sets and version stamps in one slot. Storing and
 * reading touch the entry's group only (one slot, one round trip, as on a single Redis);
 * invalidating runs the same script in every group, so each group keeps the single-Redis
 * guarantee: a response computed before a write invalidated one of its tags is never stored
 * or kept in that group, and an entry lives in exactly one group. Groups spread the cache
 * over the cluster's masters; 16 is enough for a few masters while keeping an invalidation
 * at 16 small scripts (sent to the masters in parallel).
 */
export const CLUSTER_CACHE_GROUPS = 16;

/** How long an invalidation waits for a replica's acknowledgement (`replicated`) before it counts as failed. */
const REPLICA_ACK_MS = 100;

export class RedisResponseStore implements ResponseStore {
  /**
   * `groups` 1: the single-Redis layout (no hash tags, the key names above). `replicated`
   * (Sentinel): an invalidation succeeds only once a replica has it (WAIT). After a failover
   * the old master keeps answering as a master until Sentinel demotes it, seconds later, and
   * then drops what it took meanwhile; and a master that crashes drops what it had not yet
   * sent. An invalidation lost either way would leave the new master serving the old answer,
   * so it fails instead, and the cache's retry (bypassing until it succeeds) carries it to
   * the new master. With no replica in sync, writes leave the cache bypassed until one is.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly groups = 1,
    private readonly replicated = false,
  ) {}

  private group(key: string): string {
    if (this.groups === 1) return 'rc';
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return `{rc${(h >>> 0) % this.groups}}`;
  }

  async get(key: string): Promise<CacheRead> {
    const g = this.group(key);
    const [generation, value] = await this.redis.mget(`${g}:gen`, `${g}:e:${key}`);
    return { value: value ?? null, generation: Number(generation ?? 0) };
  }

  async getBytes(key: string): Promise<Buffer | null> {
    return this.redis.getBuffer(`${this.group(key)}:e:${key}`);
  }

  async getPrefix(key: string, length: number): Promise<string | null> {
    // GETRANGE answers "" for a missing key (and for an empty value, which is never stored).
    const prefix = await this.redis.getrange(`${this.group(key)}:e:${key}`, 0, length - 1);
    return prefix === '' ? null : prefix;
  }

  async set(
    key: string,
    value: string,
    ttlSeconds: number,
    tags: readonly string[],
    generation: number,
  ): Promise<boolean> {
    const g = this.group(key);
    const keys = [`${g}:e:${key}`, ...tags.map((t) => `${g}:t:${t}`), ...tags.map((t) => `${g}:v:${t}`)];
    const now = Math.floor(Date.now() / 1000);
    const stored = await this.redis.eval(
      SET_SCRIPT,
      keys.length,
      ...keys,
      value,
      ttlSeconds,
      generation,
      tags.length,
      now,
    );
    return stored === 1;
  }

  async invalidate(tags: readonly string[]): Promise<void> {
    if (!tags.length) return;
    const now = Math.floor(Date.now() / 1000);
    const groups = this.groups === 1 ? ['rc'] : Array.from({ length: this.groups }, (_, i) => `{rc${i}}`);
    await Promise.all(
      groups.map((g) => {
        const keys = [...tags.map((t) => `${g}:t:${t}`), ...tags.map((t) => `${g}:v:${t}`), `${g}:gen`];
        return this.redis.eval(INVALIDATE_SCRIPT, keys.length, ...keys, tags.length, TAG_VERSION_TTL_SECONDS, now);
      }),
    );
    // On the connection that wrote: WAIT counts the replicas that have all its writes so far.
    if (this.replicated && (await this.redis.wait(1, REPLICA_ACK_MS)) < 1)
      throw new Error('cache invalidation not acknowledged by a replica (failover or no replica in sync)');
  }
}

/** The embedded mode's store: a bounded LRU map with the same tag and generation rules. */
export class MemoryResponseStore implements ResponseStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number; tags: readonly string[] }>();
  private readonly byTag = new Map<string, Set<string>>();
  /** tag → [generation, when]: only needed while requests that started before may still store. */
  private readonly tagVersions = new Map<string, [number, number]>();
  private generation = 0;

  constructor(private readonly maxEntries: number) {}

  async get(key: string): Promise<CacheRead> {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) this.drop(key);
    else if (entry) {
      this.entries.delete(key); // most recently used goes last
      this.entries.set(key, entry);
    }
    return { value: this.entries.get(key)?.value ?? null, generation: this.generation };
  }

  async getBytes(key: string): Promise<Buffer | null> {
    const { value } = await this.get(key);
    return value === null ? null : Buffer.from(value);
  }

  async getPrefix(key: string, length: number): Promise<string | null> {
    const { value } = await this.get(key);
    return value === null ? null : value.slice(0, length);
  }

  async set(
    key: string,
    value: string,
    ttlSeconds: number,
    tags: readonly string[],
    generation: number,
  ): Promise<boolean> {
    if (tags.some((t) => (this.tagVersions.get(t)?.[0] ?? 0) > generation)) return false;
    this.drop(key);
    this.entries.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000, tags });
    for (const t of tags) (this.byTag.get(t) ?? this.byTag.set(t, new Set()).get(t)!).add(key);
    while (this.entries.size > this.maxEntries) this.drop(this.entries.keys().next().value!);
    return true;
  }

  async invalidate(tags: readonly string[]): Promise<void> {
    this.generation++;
    const now = Date.now();
    for (const [t, [, at]] of this.tagVersions) {
      if (now - at < TAG_VERSION_TTL_SECONDS * 1000) break; // insertion order: oldest first
      this.tagVersions.delete(t);
    }
    for (const t of tags) {
      this.tagVersions.delete(t); // re-inserted last, keeping the map ordered by time
      this.tagVersions.set(t, [this.generation, now]);
      for (const key of this.byTag.get(t) ?? []) this.drop(key);
      this.byTag.delete(t);
    }
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    for (const t of entry.tags) {
      const keys = this.byTag.get(t);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(t);
    }
  }
}
