import type postgres from 'postgres';
import type { ReplicaConfig } from '../../config/config.types.js';
import type { Logger } from '../../logging/logger.js';
import { parseLsn } from './lsn.js';
import { currentReadRoute, type ReadRoute } from './read-route.js';
import { Replica } from './replica.js';
import { MemoryWalPositions, type WalPositions } from './wal-positions.js';

/** The counters and gauge the router feeds (observability/metrics.ts implements them). */
export interface ReplicaMetrics {
  readonly replicaLag: { set(labels: { replica: string }, value: number): void };
  readonly dbReads: { inc(labels: { target: 'primary' | 'replica' }): void };
  readonly replicaFallbacks: { inc(labels: { reason: FallbackReason }): void };
}

/**
 * Why a read that could have gone to a replica ran on the primary: no replica usable (down or
 * lagging), none had replayed the caller's last write yet, the caller's position could not be
 * read, the answer fills the shared cache, or a replica failed the statement (retried).
 */
type FallbackReason = 'unavailable' | 'behind' | 'position_unknown' | 'cache_fill' | 'error';

export interface ReplicaRouterOptions {
  readonly replicas: ReplicaConfig;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutS: number;
  readonly log: Logger;
  readonly metrics?: ReplicaMetrics;
}

/** A plain read: `select ...` without a locking clause (anything else is the primary's). */
const PLAIN_SELECT = /^\s*select\b/i;
const LOCKING = /\bfor\s+(?:update|share|no\s+key\s+update|key\s+share)\b/i;
/** A read-only statement outside a transaction: it needs no WAL position recorded after it. */
const READ_ONLY = /^\s*(?:select|show)\b/i;

/**
 * Sends a query's reads to a streaming replica and everything else to the primary, as GitLab's
 * database load balancer does: a read runs on a replica only when the request is a query (not
 * a mutation, not a subscription's checks, never inside a transaction), a replica is up and
 * within REPLICA_MAX_LAG_SECONDS, and it has replayed the caller's last write (the primary's
 * WAL position recorded after it, see `WalPositions`). A replica that fails a statement
 * (connection, timeout, recovery conflict) is skipped and the statement retried on the
 * primary; the health check takes it back once it answers and has caught up.
 *
 * A router of our own rather than Drizzle's `withReplicas`: that one chooses by query builder
 * (every `select()` goes to a replica, in mutations too) and knows nothing of positions, lag
 * or retrying a failed statement elsewhere. This sits under Drizzle, as the postgres.js client
 * it is given, around the primary's guarded client (guarded-client.ts).
 */
export class ReplicaRouter {
  readonly replicas: Replica[];
  private positions: WalPositions = new MemoryWalPositions();
  private readonly timer: NodeJS.Timeout;
  private next = 0;
  private checking = false;

  constructor(
    private readonly primary: postgres.Sql,
    private readonly options: ReplicaRouterOptions,
  ) {
    const { replicas, poolMax, statementTimeoutMs, connectTimeoutS, log } = options;
    this.replicas = replicas.urls.map(
      (url) =>
        new Replica({ url, poolMax, statementTimeoutMs, connectTimeoutS, maxLagSeconds: replicas.maxLagSeconds, log }),
    );
    this.timer = setInterval(() => void this.checkAll(), replicas.healthCheckMs);
    this.timer.unref();
    void this.checkAll();
  }

  /** Where users' WAL positions are kept: Redis once the infrastructure is up (a map until then). */
  usePositions(positions: WalPositions): void {
    this.positions = positions;
  }

  /** Measures every replica now (the timer does so every REPLICA_HEALTH_CHECK_MS). */
  async checkAll(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const primaryLsn = await this.primaryPosition().catch(() => undefined);
      await Promise.all(this.replicas.map((r) => r.check(primaryLsn)));
      for (const r of this.replicas)
        this.options.metrics?.replicaLag.set({ replica: r.name }, Number.isFinite(r.lagSeconds) ? r.lagSeconds : -1);
    } finally {
      this.checking = false;
    }
  }

  /** The client Drizzle is given: reads routed, transactions and writes to the primary. */
  client(): postgres.Sql {
    return new Proxy(this.primary, {
      get: (target, property, receiver) => {
        if (property === 'unsafe') return this.unsafe;
        if (property === 'begin') return this.begin;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
  }

  /**
   * Gives the replicas' clients the primary's value parsers and serializers, which Drizzle
   * adjusts on the client it is given (dates and JSON as text): call once Drizzle is built.
   */
  adoptTypes(): void {
    for (const r of this.replicas) {
      Object.assign(r.sql.options.parsers, this.primary.options.parsers);
      Object.assign(r.sql.options.serializers, this.primary.options.serializers);
    }
  }

  /** The primary's current WAL position: at least that of every transaction committed before. */
  async primaryPosition(): Promise<bigint> {
    const [row] = await this.primary.unsafe<{ lsn: string }[]>('select pg_current_wal_lsn()::text as lsn');
    return parseLsn(row!.lsn);
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return Promise.all(this.replicas.map((r) => r.close())).then(() => {});
  }

  private readonly unsafe = (query: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    const route = currentReadRoute();
    const onPrimary = (mode: Mode) => run(this.primary, query, params, options, mode);
    if (!route) return this.primary.unsafe(query, params as never, options);
    if (route.eligible && PLAIN_SELECT.test(query) && !LOCKING.test(query))
      return new RoutedStatement((mode) => this.read(route, mode, query, params, options));
    if (READ_ONLY.test(query) || !route.userId) return this.primary.unsafe(query, params as never, options);
    // A write outside a transaction, for a signed-in caller: their position once it is done.
    return new RoutedStatement(async (mode) => {
      const result = await onPrimary(mode);
      await this.recordWrite(route);
      return result;
    });
  };

  private readonly begin = async (...args: unknown[]) => {
    const result = await (this.primary.begin as (...a: unknown[]) => Promise<unknown>)(...args);
    const route = currentReadRoute();
    if (route?.userId) await this.recordWrite(route);
    return result;
  };

  /**
   * After a caller's write committed, before their answer goes out: the primary's position,
   * kept for REPLICA_STICKY_SECONDS. Not kept (Redis not answering): their next reads may miss
   * this write on a replica for a moment, so it is logged; the write itself stands.
   */
  private async recordWrite(route: ReadRoute): Promise<void> {
    try {
      const lsn = await this.primaryPosition();
      route.minLsn = route.minLsn !== undefined && route.minLsn > lsn ? route.minLsn : lsn;
      await this.positions.record(route.userId!, lsn, this.options.replicas.stickySeconds);
    } catch (err) {
      this.options.log.warn({ err, userId: route.userId }, 'could not record the WAL position of a write');
    }
  }

  private async read(
    route: ReadRoute,
    mode: Mode,
    query: string,
    params: unknown[] | undefined,
    options: postgres.UnsafeQueryOptions | undefined,
  ) {
    const replica = await (route.target ??= this.choose(route));
    const metrics = this.options.metrics;
    if (replica) {
      try {
        const result = await run(replica.sql, query, params, options, mode);
        metrics?.dbReads.inc({ target: 'replica' });
        return result;
      } catch (err) {
        if (!replicaTrouble(err)) throw err;
        replica.failed(err);
        route.target = Promise.resolve(null);
        metrics?.replicaFallbacks.inc({ reason: 'error' });
      }
    }
    metrics?.dbReads.inc({ target: 'primary' });
    return run(this.primary, query, params, options, mode);
  }

  /** The replica for this request's reads, or null for the primary (counted with its reason). */
  private async choose(route: ReadRoute): Promise<Replica | null> {
    const fallback = (reason: FallbackReason) => {
      this.options.metrics?.replicaFallbacks.inc({ reason });
      return null;
    };
    if (route.fillsCache) return fallback('cache_fill');
    const usable = this.replicas.filter((r) => r.usable);
    if (!usable.length) return fallback('unavailable');
    let min = route.minLsn;
    if (route.userId) {
      let recorded: bigint | undefined;
      try {
        recorded = await this.positions.get(route.userId);
      } catch {
        return fallback('position_unknown');
      }
      if (recorded !== undefined && (min === undefined || recorded > min)) min = recorded;
    }
    const start = this.next++ % usable.length;
    for (let i = 0; i < usable.length; i++) {
      const replica = usable[(start + i) % usable.length]!;
      if (min === undefined || (await replica.hasReplayed(min))) return replica;
    }
    return fallback('behind');
  }
}

type Mode = 'objects' | 'values';

function run(
  sql: postgres.Sql,
  query: string,
  params: unknown[] | undefined,
  options: postgres.UnsafeQueryOptions | undefined,
  mode: Mode,
): Promise<unknown> {
  const statement = sql.unsafe(query, params as never, options);
  return mode === 'values' ? statement.values() : statement;
}

/**
 * What Drizzle gets back from `unsafe` for a routed statement: like postgres.js' own, it runs
 * when first awaited, in the row format asked for by then (`.values()` for arrays).
 */
class RoutedStatement implements PromiseLike<unknown> {
  private mode: Mode = 'objects';
  private running: Promise<unknown> | undefined;

  constructor(private readonly execute: (mode: Mode) => Promise<unknown>) {}

  values(): this {
    this.mode = 'values';
    return this;
  }

  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.running ??= this.execute(this.mode);
    return this.running.then(onFulfilled, onRejected);
  }
}

/**
 * A failure of the replica rather than of the statement: connection errors, statement timeouts
 * (a replica stuck in replay), recovery conflicts (40001, 40P01, 57P04 canceled by the
 * replica's replay). A write refused as read-only (25006) is not one: it fails loudly.
 */
function replicaTrouble(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (code === '25006') return false;
      if (['40001', '40P01', '57P04', '57014', '57P01', '57P02', '57P03', '53300'].includes(code)) return true;
      if (code.startsWith('08') || /^[A-Z_]+$/.test(code)) return true; // SQLSTATE 08xxx, driver connection errors
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
