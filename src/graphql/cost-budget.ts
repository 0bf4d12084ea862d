import type { RedisClient } from '../redis/redis.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logging/logger.js';

/** What the response's `extensions.cost` tells a client, so it can pace itself. */
export interface CostReport {
  requested: number;
  limit: number;
  remaining: number;
  resetInSeconds: number;
}

/**
 * A query-cost budget per caller per minute (user id, or client IP when anonymous), shared by
 * every API instance through Redis (rate-limiter-flexible), in memory in the embedded mode.
 * If Redis fails, an in-memory limiter per instance takes over (insurance): the limit keeps
 * working, a little looser, instead of failing requests or letting everything through.
 */
export class CostBudget {
  private readonly limiter: RateLimiterAbstract;

  constructor(
    private readonly perMinute: number,
    redis: RedisClient | undefined,
    private readonly log: Logger,
  ) {
    const options = { points: perMinute, duration: 60, keyPrefix: 'cost' };
    this.limiter = redis
      ? new RateLimiterRedis({
          ...options,
          storeClient: redis,
          insuranceLimiter: new RateLimiterMemory(options),
          rejectIfRedisNotReady: true,
        })
      : new RateLimiterMemory(options);
  }

  /** Spends `cost` of the caller's budget; RATE_LIMITED (with retryAfterSeconds) when it is gone. */
  async spend(caller: string, cost: number): Promise<CostReport> {
    const points = Math.max(1, Math.ceil(cost));
    try {
      const res = await this.limiter.consume(caller, points);
      return this.report(points, res);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        this.log.warn({ err }, 'cost budget unavailable; request allowed');
        return { requested: points, limit: this.perMinute, remaining: this.perMinute, resetInSeconds: 60 };
      }
      const retryAfterSeconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new AppError(
        'RATE_LIMITED',
        `Query cost budget of ${this.perMinute} per minute used up; retry in ${retryAfterSeconds} s`,
        {
          retryAfterSeconds,
          cost: { ...this.report(points, err), remaining: 0 },
        },
      );
    }
  }

  private report(points: number, res: RateLimiterRes): CostReport {
    return {
      requested: points,
      limit: this.perMinute,
      remaining: Math.max(0, res.remainingPoints),
      resetInSeconds: Math.ceil(res.msBeforeNext / 1000),
    };
  }
}

/** Whose budget a request spends. */
export function budgetKey(viewer: { userId: string | null }, ip: string): string {
  return viewer.userId ? `user:${viewer.userId}` : `ip:${ip}`;
}
