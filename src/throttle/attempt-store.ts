/**
 * Counting attempts with exponential back-off, behind one small interface with a Redis
 * implementation (shared by every API instance) and an in-memory twin (embedded mode).
 *
 * One `attempt` call reserves `weight` attempts on several keys atomically:
 *  - if any key is locked, nothing is counted and the caller waits `retryAfterMs`;
 *  - otherwise every key counts the attempts. A key at or over its free allowance locks for
 *    base * 2^(n - free), capped at max, so each further attempt must wait twice as long.
 *  - a multi-attempt reservation (aliased fields) that would pass the allowance is refused
 *    outright, and still counted: batching cannot buy extra guesses.
 * Counts expire `windowMs` after the last attempt, and locks are capped, so nobody is ever
 * locked out for good.
 */
export interface BackoffPolicy {
  readonly free: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly windowMs: number;
}

export interface AttemptKey {
  readonly key: string;
  readonly policy: BackoffPolicy;
  readonly weight: number;
}

export type AttemptResult = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface AttemptStore {
  attempt(keys: readonly AttemptKey[]): Promise<AttemptResult>;
  /** Gives one attempt back (a success that must not count against a shared key). */
  refund(key: string): Promise<void>;
  reset(key: string): Promise<void>;
  setFlag(key: string, ttlMs: number): Promise<void>;
  hasFlag(key: string): Promise<boolean>;
  close(): Promise<void>;
}

export function backoffMs(policy: BackoffPolicy, count: number): number {
  if (count < policy.free) return 0;
  return Math.min(policy.baseMs * 2 ** Math.min(count - policy.free, 40), policy.maxMs);
}

interface Entry {
  n: number;
  until: number;
  expiresAt: number;
}

export class MemoryAttemptStore implements AttemptStore {
  private readonly entries = new Map<string, Entry>();
  private readonly flags = new Map<string, number>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  constructor(private readonly now: () => number = Date.now) {}

  async attempt(keys: readonly AttemptKey[]): Promise<AttemptResult> {
    const now = this.now();
    const current = keys.map((k) => this.live(k.key, now));
    const wait = Math.max(0, ...current.map((e) => (e ? e.until - now : 0)));
    if (wait > 0) return { allowed: false, retryAfterMs: wait };
    let allowed = true;
    keys.forEach(({ key, policy, weight }, i) => {
      const n = (current[i]?.n ?? 0) + weight;
      if (n > policy.free && weight > 1) allowed = false;
      const lock = backoffMs(policy, n);
      this.entries.set(key, { n, until: now + lock, expiresAt: now + policy.windowMs + lock });
    });
    if (allowed) return { allowed: true };
    return { allowed: false, retryAfterMs: Math.max(...keys.map((k) => this.entries.get(k.key)!.until - now), 1_000) };
  }

  async refund(key: string): Promise<void> {
    const e = this.live(key, this.now());
    if (e && e.n > 0) e.n -= 1;
  }

  async reset(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async setFlag(key: string, ttlMs: number): Promise<void> {
    this.flags.set(key, this.now() + ttlMs);
  }

  async hasFlag(key: string): Promise<boolean> {
    return (this.flags.get(key) ?? 0) > this.now();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    for (const [k, until] of this.flags) if (until <= now) this.flags.delete(k);
  }
}
