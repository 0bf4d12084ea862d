import type { Logger } from '../logging/logger.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Thrown instead of sending a statement while the breaker is open: nothing reached the database. */
export class DatabaseUnavailableError extends Error {
  /** Read by `databaseOutage` like a driver's connection error code. */
  readonly code = 'CIRCUIT_OPEN';
  constructor() {
    super('The database is unreachable (circuit open); nothing was sent');
    this.name = 'DatabaseUnavailableError';
  }
}

export interface BreakerOptions {
  /** Resolves when the database answers on a fresh connection; rejects (or hangs) otherwise. */
  readonly probe: () => Promise<void>;
  /** A probe that has not answered after this long counts as failed (a frozen server). */
  readonly probeTimeoutMs: number;
  /** While open, how often a probe tries the database (half-open). */
  readonly retryMs: number;
  readonly log: Logger;
}

/**
 * A circuit breaker over the database, driven by the driver's own signals rather than by
 * error rates (see docs/decisions/004-database-circuit-breaker.md): a connection-class error
 * or a stalled pool makes it *suspect* the database, and one probe on a fresh connection
 * decides. A failed probe opens it: statements are refused at once, without waiting for the
 * pool or a connect timeout. While open, a probe runs every `retryMs` (half-open, one at a
 * time, no user request spent on it); the first that answers closes it.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private probing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners = new Set<(state: BreakerState) => void>();

  constructor(private readonly options: BreakerOptions) {}

  get state(): BreakerState {
    return this.current;
  }

  get isOpen(): boolean {
    return this.current !== 'closed';
  }

  /** Throws DatabaseUnavailableError while open (and half-open: the probe alone goes through). */
  assertClosed(): void {
    if (this.current !== 'closed') throw new DatabaseUnavailableError();
  }

  /** A statement failed for a reason that may mean the database is gone: check at once. */
  suspect(): void {
    if (this.current === 'closed') void this.probe();
  }

  /** Resolves once the current probe (if any) has settled. */
  async settled(): Promise<void> {
    await this.probing;
  }

  /** Calls `listener` on every change of state; returns a function that stops it. */
  subscribe(listener: (state: BreakerState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private probe(): Promise<void> {
    this.probing ??= this.runProbe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async runProbe(): Promise<void> {
    const { probe, probeTimeoutMs, retryMs, log } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const attempt = probe();
    attempt.catch(() => {});
    try {
      await Promise.race([
        attempt,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${probeTimeoutMs} ms`)), probeTimeoutMs);
        }),
      ]);
      if (this.current !== 'closed') log.info({ breaker: 'database' }, 'database reachable again; circuit closed');
      this.set('closed');
    } catch (err) {
      if (this.current === 'closed') log.warn({ err, breaker: 'database' }, 'database unreachable; circuit open');
      this.set('open');
      if (!this.stopped) {
        clearTimeout(this.retry);
        this.retry = setTimeout(() => {
          if (this.stopped) return;
          this.set('half-open');
          void this.probe();
        }, retryMs);
        this.retry.unref();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private set(state: BreakerState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}
