import type { RedisClient } from '../redis/redis.js';
import type { AttemptKey, AttemptResult, AttemptStore } from './attempt-store.js';

/**
 * The Redis twin of MemoryAttemptStore: the same rules in one Lua script, so a reservation
 * across several keys is atomic for every API instance. Time comes from Redis, not from
 * the instances' clocks.
 */
const ATTEMPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local u = tonumber(redis.call('HGET', key, 'until') or '0')
  if u - now > wait then wait = u - now end
end
if wait > 0 then return {0, wait} end
local allowed = 1
local longest = 0
for i, key in ipairs(KEYS) do
  local o = (i - 1) * 5
  local weight, free, base, max, window = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4]), tonumber(ARGV[o + 5])
  local n = tonumber(redis.call('HGET', key, 'n') or '0') + weight
  if n > free and weight > 1 then allowed = 0 end
  local lock = 0
  if n >= free then
    lock = math.floor(base * (2 ^ math.min(n - free, 40)))
    if lock > max then lock = max end
  end
  if lock > longest then longest = lock end
  redis.call('HSET', key, 'n', n, 'until', now + lock)
  redis.call('PEXPIRE', key, window + lock)
end
if allowed == 1 then return {1, 0} end
return {0, math.max(longest, 1000)}
`;

const REFUND = `
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n > 0 then redis.call('HSET', KEYS[1], 'n', n - 1) end
return n
`;

export class RedisAttemptStore implements AttemptStore {
  /**
   * `cluster`: keys carry one hash tag ({throttle}), so the several keys one attempt reserves
   * atomically (account and address) share a slot. Throttle traffic is a few commands per
   * sign-in, far below what one shard serves.
   */
  constructor(
    private readonly redis: RedisClient,
    cluster = false,
  ) {
    this.k = cluster ? (key) => `{throttle}:${key}` : (key) => key;
  }

  private readonly k: (key: string) => string;

  async attempt(keys: readonly AttemptKey[]): Promise<AttemptResult> {
    const args = keys.flatMap(({ weight, policy }) => [
      weight,
      policy.free,
      policy.baseMs,
      policy.maxMs,
      policy.windowMs,
    ]);
    const [ok, wait] = (await this.redis.eval(ATTEMPT, keys.length, ...keys.map((k) => this.k(k.key)), ...args)) as [
      number,
      number,
    ];
    return ok === 1 ? { allowed: true } : { allowed: false, retryAfterMs: wait };
  }

  async refund(key: string): Promise<void> {
    await this.redis.eval(REFUND, 1, this.k(key));
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.k(key));
  }

  async setFlag(key: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.k(key), '1', 'PX', ttlMs);
  }

  async hasFlag(key: string): Promise<boolean> {
    return (await this.redis.exists(this.k(key))) === 1;
  }

  async close(): Promise<void> {
    // the Redis connection belongs to the app, which closes it
  }
}
