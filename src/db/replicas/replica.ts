import postgres from 'postgres';
import type { Logger } from '../../logging/logger.js';
import { parseLsn } from './lsn.js';

export type ReplicaState = 'unknown' | 'ok' | 'lagging' | 'down';

export interface ReplicaOptions {
  readonly url: string;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutS: number;
  readonly maxLagSeconds: number;
  readonly log: Logger;
}

/** A position asked for less than this long ago is not asked for again (concurrent requests share one). */
const REFRESH_MIN_MS = 20;

/**
 * One streaming replica: its connection pool, and what the last health check found (state,
 * lag, the WAL position it has replayed). Only `ok` replicas take reads; one found down or
 * failing is left alone until a health check finds it answering and caught up again.
 */
export class Replica {
  readonly sql: postgres.Sql;
  /** `host:port`: the metrics label and log field. */
  readonly name: string;
  state: ReplicaState = 'unknown';
  lagSeconds = Number.POSITIVE_INFINITY;
  replayed = 0n;
  private refreshing: Promise<void> | undefined;
  private refreshedAt = 0;

  constructor(private readonly options: ReplicaOptions) {
    const url = new URL(options.url);
    this.name = `${url.hostname}:${url.port || '5432'}`;
    this.sql = postgres(options.url, {
      max: options.poolMax,
      connect_timeout: options.connectTimeoutS,
      idle_timeout: 60,
      max_lifetime: 30 * 60,
      onnotice: () => {},
      connection: { statement_timeout: options.statementTimeoutMs, application_name: 'eduflow-replica' },
    });
  }

  get usable(): boolean {
    return this.state === 'ok';
  }

  /**
   * The health check: replay position and lag. Caught up with the primary's current position
   * (`primaryLsn`), the lag is 0 (an idle primary makes no replica late); behind it, the lag
   * is the age of the last transaction the replica replayed.
   */
  async check(primaryLsn: bigint | undefined): Promise<void> {
    const before = this.state;
    try {
      const [row] = await this.sql<{ lsn: string | null; since: number | null }[]>`
        select pg_last_wal_replay_lsn()::text as lsn,
               extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as since`;
      if (!row?.lsn) throw new Error('not a streaming replica (no WAL replayed)');
      this.replayed = parseLsn(row.lsn);
      this.refreshedAt = Date.now();
      this.lagSeconds =
        primaryLsn === undefined || this.replayed >= primaryLsn
          ? 0
          : Math.max(0, row.since ?? Number.POSITIVE_INFINITY);
      this.state = this.lagSeconds > this.options.maxLagSeconds ? 'lagging' : 'ok';
    } catch (err) {
      this.state = 'down';
      this.lagSeconds = Number.POSITIVE_INFINITY;
      if (before !== 'down')
        this.options.log.warn({ err, replica: this.name }, 'read replica unreachable; reads go to the primary');
      return;
    }
    if (before !== this.state && (before !== 'unknown' || this.state !== 'ok'))
      this.options.log.info(
        { replica: this.name, state: this.state, lagSeconds: this.lagSeconds },
        'read replica state',
      );
  }

  /** Whether it has replayed `lsn`: the last known position, else asked (once for concurrent callers). */
  async hasReplayed(lsn: bigint): Promise<boolean> {
    if (this.replayed >= lsn) return true;
    if (!this.refreshing && Date.now() - this.refreshedAt >= REFRESH_MIN_MS) {
      this.refreshing = this.sql<{ lsn: string | null }[]>`select pg_last_wal_replay_lsn()::text as lsn`
        .then(([row]) => {
          if (row?.lsn) this.replayed = parseLsn(row.lsn);
          this.refreshedAt = Date.now();
        })
        .finally(() => (this.refreshing = undefined));
    }
    await this.refreshing?.catch(() => {});
    return this.replayed >= lsn;
  }

  /** A statement failed on it (connection, timeout, recovery conflict): skipped until the next check. */
  failed(err: unknown): void {
    if (this.state === 'down') return;
    this.state = 'down';
    this.options.log.warn({ err, replica: this.name }, 'read replica failed a statement; reads go to the primary');
  }

  close(): Promise<void> {
    return this.sql.end({ timeout: 5 });
  }
}
