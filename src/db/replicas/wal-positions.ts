import type { RedisClient } from '../../redis/redis.js';

/**
 * The primary's WAL position after each user's last write, kept for REPLICA_STICKY_SECONDS:
 * while it is there, that user's queries use only a replica that has replayed it. In Redis,
 * so that every API instance sees it (the next request may land on another one).
 */
export interface WalPositions {
  get(userId: string): Promise<bigint | undefined>;
  /** Keeps the later of the recorded and the given position. */
  record(userId: string, lsn: bigint, ttlSeconds: number): Promise<void>;
}

// Keeps the greater position: two writes of one user that finish together may record out of order.
const RECORD_MAX = `
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export class RedisWalPositions implements WalPositions {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async get(userId: string): Promise<bigint | undefined> {
    const value = await this.redis.get(this.key(userId));
    return value === null ? undefined : BigInt(value);
  }

  async record(userId: string, lsn: bigint, ttlSeconds: number): Promise<void> {
    await this.redis.eval(RECORD_MAX, 1, this.key(userId), lsn.toString(), ttlSeconds * 1000);
  }

  private key(userId: string): string {
    return `${this.prefix}wal:${userId}`;
  }
}

/** One process without Redis: the same rule in a map. */
export class MemoryWalPositions implements WalPositions {
  private readonly positions = new Map<string, { lsn: bigint; until: number }>();

  async get(userId: string): Promise<bigint | undefined> {
    const p = this.positions.get(userId);
    if (!p || p.until <= Date.now()) {
      this.positions.delete(userId);
      return undefined;
    }
    return p.lsn;
  }

  async record(userId: string, lsn: bigint, ttlSeconds: number): Promise<void> {
    const current = await this.get(userId);
    this.positions.set(userId, {
      lsn: current !== undefined && current > lsn ? current : lsn,
      until: Date.now() + ttlSeconds * 1000,
    });
  }
}
