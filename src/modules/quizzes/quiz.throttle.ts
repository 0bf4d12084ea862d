import { AppError } from '../../errors/app-error.js';
import type { AttemptStore, BackoffPolicy } from '../../throttle/attempt-store.js';

const MINUTE = 60_000;

/**
 * Attempt starts and submissions per student, counted like sign-in attempts (the same store,
 * shared by every instance): a few a minute are free, then each waits twice as long as the
 * last. Guessing answers by brute force over many attempts costs time, not just attempts.
 */
export class QuizThrottle {
  private readonly policy: BackoffPolicy = { free: 10, baseMs: 2_000, maxMs: 5 * MINUTE, windowMs: MINUTE };

  constructor(private readonly store: AttemptStore) {}

  async reserve(userId: string): Promise<void> {
    const result = await this.store.attempt([{ key: `quiz:attempts:${userId}`, policy: this.policy, weight: 1 }]);
    if (result.allowed) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
    throw new AppError('RATE_LIMITED', `Too many quiz attempts; try again in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    });
  }
}
