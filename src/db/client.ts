import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { CircuitBreaker } from './breaker.js';
import { guardClient } from './guarded-client.js';
import { lockDataDir } from './data-dir-lock.js';
import { recordQuery } from './query-stats.js';
import { ReplicaRouter, type ReplicaMetrics } from './replicas/router.js';
import * as schema from './schema.js';

type Schema = typeof schema;
/** The one database type everything above the adapter uses: postgres.js and PGlite alike. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /**
   * Postgres only: open while the database is unreachable (statements are refused at once,
   * see breaker.ts); `/ready` and the HTTP layer follow it.
   */
  readonly breaker?: CircuitBreaker;
  /** Postgres with DATABASE_REPLICA_URLS: the read replicas and their routing (replicas/router.ts). */
  readonly replicas?: ReplicaRouter;
  /** Throws when the database cannot answer (at once while the breaker is open). */
  ping(): Promise<void>;
  migrate(): Promise<void>;
  /** LISTENs on a channel (a dedicated connection); resolves with a function that stops. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Called for every SQL statement Drizzle sends (tests count them). */
  onQuery?: (query: string) => void;
  /** Where the read replicas' lag, reads by target and fallbacks are counted. */
  metrics?: ReplicaMetrics;
}

/** While the breaker is open, how often a probe tries the database (half-open). */
const BREAKER_RETRY_MS = 250;
/** A probe (a fresh connection and `select 1`) not answered within this counts as failed. */
const BREAKER_PROBE_TIMEOUT_MS = 1_000;

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle/', import.meta.url));
/** Arbitrary but fixed: every instance takes the same advisory lock before migrating. */
const MIGRATION_LOCK_KEY = 7_345_112_020;

export function createDatabase(config: Config, log: Logger, options: DatabaseOptions = {}): Database {
  const logger = {
    logQuery(query: string) {
      recordQuery();
      options.onQuery?.(query);
      if (log.isLevelEnabled('trace')) log.trace({ query }, 'sql');
    },
  };
  const c = config.db;
  if (c.kind === 'postgres') {
    const client = postgres(c.url, {
      max: c.poolMax,
      connect_timeout: c.connectTimeoutS,
      idle_timeout: 60,
      max_lifetime: 30 * 60,
      onnotice: () => {},
      connection: {
        statement_timeout: c.statementTimeoutMs,
        // A transaction left open (a stuck request, a crashed handler) cannot hold locks for long.
        idle_in_transaction_session_timeout: c.idleInTransactionTimeoutMs,
        application_name: 'eduflow',
      },
    });
    const breaker = new CircuitBreaker({
      probe: () => probeDatabase(c.url, BREAKER_PROBE_TIMEOUT_MS),
      probeTimeoutMs: BREAKER_PROBE_TIMEOUT_MS,
      retryMs: BREAKER_RETRY_MS,
      log,
    });
    const guarded = guardClient(client, breaker, (err) => databaseOutage(err) === 'unavailable');
    const replicas = c.replicas
      ? new ReplicaRouter(guarded.client, {
          replicas: c.replicas,
          poolMax: c.poolMax,
          statementTimeoutMs: c.statementTimeoutMs,
          connectTimeoutS: c.connectTimeoutS,
          log,
          metrics: options.metrics,
        })
      : undefined;
    const db = drizzlePostgres(replicas ? replicas.client() : guarded.client, { schema, logger }) as unknown as Db;
    replicas?.adoptTypes();
    return {
      kind: 'postgres',
      db,
      breaker,
      replicas,
      ping: async () => {
        breaker.assertClosed();
        try {
          await client`select 1`;
        } catch (err) {
          if (databaseOutage(err) === 'unavailable') breaker.suspect();
          throw err;
        }
      },
      migrate: () => migratePostgresUnderLock(c.url, log),
      listen: async (channel, onNotify) => {
        const { unlisten } = await client.listen(channel, () => onNotify());
        return unlisten;
      },
      close: async () => {
        guarded.stop();
        await replicas?.close();
        await client.end({ timeout: 5 });
      },
    };
  }

  const dataDir = c.dataDir === 'memory://' ? c.dataDir : join(c.dataDir, 'pglite');
  const unlock = dataDir === 'memory://' ? () => {} : lockDataDir(c.dataDir);
  if (dataDir !== 'memory://') mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  const pgliteDb = drizzlePglite(client, { schema, logger });
  return {
    kind: 'pglite',
    db: pgliteDb as unknown as Db,
    ping: async () => {
      await client.query('select 1');
    },
    migrate: async () => {
      await migratePglite(pgliteDb, { migrationsFolder: MIGRATIONS_FOLDER });
      log.info({ dataDir }, 'embedded database migrated');
    },
    listen: async (channel, onNotify) => {
      const stop = await client.listen(channel, () => onNotify());
      return () => stop();
    },
    close: async () => {
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}

/**
 * Applies pending migrations while holding a Postgres advisory lock, so instances that
 * start together run them once, one after the other. A single-connection client keeps the
 * lock, the migration and the unlock on the same session.
 */
async function migratePostgresUnderLock(url: string, log: Logger): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migratePostgres(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_FOLDER });
      log.info('database migrated');
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}

/**
 * The breaker's probe: `select 1` on a connection of its own (the pool's may be stuck on a
 * frozen server), dropped afterwards whatever happened.
 */
async function probeDatabase(url: string, timeoutMs: number): Promise<void> {
  const probe = postgres(url, {
    max: 1,
    connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
    idle_timeout: 1,
    // `select 1` needs no array types; and postgres.js fetches them on connect in a promise
    // nobody awaits, so a probe dropped mid-connect (a frozen server) rejected it unhandled.
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: 'eduflow-probe' },
  });
  const drop = setTimeout(() => void probe.end({ timeout: 0 }).catch(() => {}), timeoutMs);
  try {
    await probe`select 1`;
  } finally {
    clearTimeout(drop);
    void probe.end({ timeout: 0 }).catch(() => {});
  }
}

/** The rows of `db.execute(...)`: postgres.js returns the array itself, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** `true` when a Postgres error is a violation of the named unique constraint or index. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = findPgError(err);
  return e?.code === '23505' && e.constraint_name === constraint;
}

/** `true` when a Postgres error is a foreign-key violation (the referenced row is gone), of `constraint` if named. */
export function isForeignKeyViolation(err: unknown, constraint?: string): boolean {
  const e = findPgError(err);
  return e?.code === '23503' && (constraint === undefined || e.constraint_name === constraint);
}

/** postgres.js' own connection failures (no SQLSTATE). */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * `'unavailable'` when the database could not be reached or went away (SQLSTATE class 08,
 * 57P01-57P03, driver connection errors); `'timeout'` when a statement ran into
 * `statement_timeout` (57014). Such errors are the deployment's, not the request's.
 */
export function databaseOutage(err: unknown): 'unavailable' | 'timeout' | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (code === '57014') return 'timeout';
      if (code === '25P03') return 'timeout'; // idle_in_transaction_session_timeout
      if (
        code.startsWith('08') ||
        ['57P01', '57P02', '57P03', '57P05', '53300', 'CIRCUIT_OPEN'].includes(code) ||
        CONNECTION_ERRORS.has(code)
      )
        return 'unavailable';
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

interface PgErrorLike {
  code?: string;
  constraint_name?: string;
  constraint?: string;
}

/** Drizzle wraps driver errors (`cause`); postgres.js and PGlite name the constraint differently. */
function findPgError(err: unknown): PgErrorLike | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const candidate = e as PgErrorLike & { cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return { code: candidate.code, constraint_name: candidate.constraint_name ?? candidate.constraint };
    }
    e = candidate.cause;
  }
  return undefined;
}
