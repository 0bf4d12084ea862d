import type { Logger } from '../logging/logger.js';
import { MemoryAttemptStore, type AttemptKey, type AttemptResult, type AttemptStore } from './attempt-store.js';

/**
 * The shared (Redis) attempt store, with this instance's memory standing in while Redis fails:
 * sign-in and registration keep working through a Redis outage, still throttled (per instance
 * instead of across all), instead of failing.
 */
export class FallbackAttemptStore implements AttemptStore {
  private readonly memory = new MemoryAttemptStore();
  private lastWarnAt = 0;

  constructor(
    private readonly primary: AttemptStore,
    private readonly log: Logger,
  ) {}

  attempt(keys: readonly AttemptKey[]): Promise<AttemptResult> {
    return this.either((s) => s.attempt(keys));
  }

  refund(key: string): Promise<void> {
    return this.either((s) => s.refund(key));
  }

  reset(key: string): Promise<void> {
    return this.either((s) => s.reset(key));
  }

  setFlag(key: string, ttlMs: number): Promise<void> {
    return this.either((s) => s.setFlag(key, ttlMs));
  }

  hasFlag(key: string): Promise<boolean> {
    return this.either((s) => s.hasFlag(key));
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.memory.close()]);
  }

  private async either<T>(run: (store: AttemptStore) => Promise<T>): Promise<T> {
    try {
      return await run(this.primary);
    } catch (err) {
      if (Date.now() - this.lastWarnAt > 30_000) {
        this.lastWarnAt = Date.now();
        this.log.warn({ err }, 'throttle store unavailable; throttling in this instance’s memory meanwhile');
      }
      return run(this.memory);
    }
  }
}
