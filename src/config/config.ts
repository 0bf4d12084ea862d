import { createPrivateKey, createPublicKey } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { algorithmOf } from '../auth/jwt-keys.js';

/**
 * The only module that reads the environment. Everything else receives the frozen `Config`.
 * `loadConfig` reports every bad variable at once (not just the first) so an operator fixes
 * a deployment in one pass.
 */

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(4000),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_QUERY_COUNTS: bool.optional(),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DB_POOL_MAX: int(1, 200).default(10),
  DB_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(5_000),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: int(100, 600_000).default(10_000),
  DB_CONNECT_TIMEOUT_S: int(1, 120).default(10),
  DB_MIGRATE_ON_START: bool.default(true),
  SEED_DEMO_DATA: bool.optional(),

  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('eduflow:'),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(2_000),
  CACHE_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),

  JWT_SECRET: z.string().optional(),
  JWT_PREVIOUS_SECRET: z.string().optional(),
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_PREVIOUS_PUBLIC_KEY: z.string().optional(),
  JWT_ISSUER: z.string().min(1).default('eduflow'),
  JWT_AUDIENCE: z.string().min(1).default('eduflow-api'),
  ACCESS_TOKEN_TTL_SECONDS: int(1, 24 * 3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 365).default(30),
  LOGIN_MAX_ATTEMPTS: int(1, 1_000).default(5),
  REGISTRATIONS_PER_HOUR: int(1, 100_000).default(20),

  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(10).max(128).optional(),

  CORS_ORIGINS: csv.optional(),
  GRAPHQL_INTROSPECTION: bool.optional(),
  // Express's `trust proxy`: true/false, a hop count, or addresses/subnets/names (loopback, ...).
  TRUST_PROXY: z
    .string()
    .transform((v) => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v))
    .optional(),

  BODY_LIMIT_BYTES: int(1_024, 10 * 1024 * 1024).default(100 * 1024),
  REQUEST_TIMEOUT_MS: int(1_000, 600_000).default(30_000),
  SHUTDOWN_GRACE_MS: int(0, 120_000).default(10_000),
  MAX_QUERY_DEPTH: int(2, 50).default(10),
  MAX_QUERY_COST: int(10, 1_000_000).default(10_000),
  MAX_ALIASES: int(1, 1_000).default(30),
  MAX_DIRECTIVES: int(1, 1_000).default(50),
  MAX_TOKENS: int(100, 100_000).default(5_000),
  SUBSCRIPTION_MAX_QUEUED: int(1, 100_000).default(256),
  WS_CONNECTION_INIT_TIMEOUT_MS: int(100, 60_000).default(5_000),
  OPERATION_TIMEOUT_MS: int(100, 600_000).default(10_000),
  COST_BUDGET_PER_MINUTE: int(0, 1_000_000_000).default(60_000),
  MAX_SUBSCRIPTIONS_PER_USER: int(0, 100_000).default(25),
  MAX_SOCKETS_PER_IP: int(0, 1_000_000).default(100),
  METRICS_TOKEN: z.string().min(16).optional(),
  WORKER_METRICS_PORT: int(0, 65535).default(9464),

  NOTIFICATION_WORKER: z.enum(['on', 'off']).default('on'),
  NOTIFICATION_BATCH_SIZE: int(1, 5_000).default(500),
  OUTBOX_POLL_MS: int(50, 60_000).default(1_000),
  OUTBOX_REQUEUE_AFTER_SECONDS: int(1, 7 * 86_400).default(900),
  REMINDER_LEAD_MINUTES: int(0, 7 * 24 * 60).default(15),
  READ_NOTIFICATION_RETENTION_DAYS: int(1, 3_650).default(90),
  WORKER_CONCURRENCY: int(1, 100).default(4),
  JOB_ATTEMPTS: int(1, 100).default(12),
  JOB_BACKOFF_MS: int(10, 600_000).default(5_000),
  JOB_LOCK_DURATION_MS: int(1_000, 600_000).default(30_000),
  JOB_STALLED_INTERVAL_MS: int(500, 600_000).default(30_000),
  JOB_DRAIN_MS: int(0, 600_000).default(30_000),
  JOB_KEEP_COMPLETED_HOURS: int(1, 24 * 30).default(24),
  JOB_KEEP_FAILED_DAYS: int(1, 365).default(14),
  ACTIVITY_REPORT_CRON: z.string().min(1).default('0 6 * * *'),
  CLEANUP_CRON: z.string().min(1).default('*/30 * * * *'),

  CACHE_ENABLED: bool.default(true),
  CACHE_TIMEOUT_MS: int(1, 1_000).default(10),
  CACHE_MAX_ENTRIES: int(10, 1_000_000).default(5_000),
  APQ_TTL_SECONDS: int(60, 30 * 86_400).default(86_400),

  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('EduFlow <no-reply@eduflow.local>'),
  MAIL_CONCURRENCY: int(1, 50).default(5),
  PUBLIC_APP_URL: z.url().default('http://localhost:3000'),
});

type Env = z.infer<typeof EnvSchema>;

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly isProduction: boolean;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string | undefined;
    readonly bodyLimitBytes: number;
    readonly requestTimeoutMs: number;
    readonly shutdownGraceMs: number;
    readonly corsOrigins: readonly string[] | 'localhost';
    readonly trustProxy: boolean | number | string | undefined;
  };
  readonly logLevel: Env['LOG_LEVEL'];
  /** Count SQL statements per request for the request log (AsyncLocalStorage: not free). */
  readonly logQueryCounts: boolean;
  readonly db:
    | {
        readonly kind: 'postgres';
        readonly url: string;
        readonly poolMax: number;
        readonly statementTimeoutMs: number;
        readonly idleInTransactionTimeoutMs: number;
        readonly connectTimeoutS: number;
        readonly migrateOnStart: boolean;
      }
    | { readonly kind: 'pglite'; readonly dataDir: string; readonly migrateOnStart: boolean };
  readonly dataDir: string;
  readonly seedDemoData: boolean;
  readonly redis:
    | {
        /** Pub/sub and BullMQ: a Redis that never evicts (maxmemory-policy noeviction). */
        readonly url: string;
        readonly keyPrefix: string;
        /** Volatile data (throttle counters, caches): may be an LRU Redis. Defaults to `url`. */
        readonly cacheUrl: string;
        readonly commandTimeoutMs: number;
      }
    | undefined;
  readonly auth: {
    /** Undefined only in embedded mode, where the app generates and stores one in dataDir. */
    readonly jwtSecret: string | undefined;
    readonly jwtPreviousSecret: string | undefined;
    /** PKCS#8 PEM: signs with ES256 / EdDSA / RS256 instead of the HS256 secret. */
    readonly jwtPrivateKey: string | undefined;
    readonly jwtPreviousPublicKey: string | undefined;
    readonly issuer: string;
    readonly audience: string;
    readonly accessTokenTtlSeconds: number;
    readonly refreshTokenTtlDays: number;
    readonly loginMaxAttempts: number;
    readonly registrationsPerHour: number;
  };
  readonly admin: { readonly email: string; readonly password: string } | undefined;
  readonly graphql: {
    readonly introspection: boolean;
    readonly landingPage: boolean;
    readonly maxDepth: number;
    readonly maxCost: number;
    readonly maxAliases: number;
    readonly maxDirectives: number;
    readonly maxTokens: number;
    readonly subscriptionMaxQueued: number;
    readonly wsConnectionInitTimeoutMs: number;
    /** A request still running after this answers SERVICE_UNAVAILABLE (TIMEOUT). */
    readonly operationTimeoutMs: number;
    /** Query cost a caller may spend per minute; 0: unlimited. */
    readonly costBudgetPerMinute: number;
    /** Per API instance; 0: unlimited. */
    readonly maxSubscriptionsPerUser: number;
    readonly maxSocketsPerIp: number;
  };
  /** Bearer token /metrics requires; unset: /metrics is open (keep it off the public network). */
  readonly metricsToken: string | undefined;
  /** Where `npm run worker` serves /metrics and /health; 0: not at all. */
  readonly workerMetricsPort: number;
  readonly cache: {
    /** Whole-response cache of queries (off: every query executes). */
    readonly enabled: boolean;
    /** Longest a cache read may take before the request runs uncached. */
    readonly timeoutMs: number;
    /** Embedded mode (in-memory LRU) only. */
    readonly maxEntries: number;
    readonly apqTtlSeconds: number;
  };
  readonly notifications: {
    /** Run the job processors (and the outbox relay) inside the API process too. */
    readonly workerInProcess: boolean;
    readonly batchSize: number;
    readonly outboxPollMs: number;
    readonly outboxRequeueAfterMs: number;
    /** 0: no reminders. */
    readonly reminderLeadMinutes: number;
    readonly readRetentionDays: number;
    readonly activityReportCron: string;
    readonly cleanupCron: string;
  };
  readonly jobs: {
    readonly concurrency: number;
    readonly attempts: number;
    readonly backoffMs: number;
    readonly lockDurationMs: number;
    readonly stalledIntervalMs: number;
    readonly keepCompletedSeconds: number;
    readonly keepFailedSeconds: number;
    /** How long shutdown waits for jobs in hand before the process exits anyway. */
    readonly drainMs: number;
  };
  readonly mail: {
    /** Unset: messages are logged as JSON instead of sent. */
    readonly smtpUrl: string | undefined;
    readonly from: string;
    readonly concurrency: number;
    readonly publicAppUrl: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const MIN_SECRET_BYTES = 32;

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings are how shells and compose files say "unset"; treat them so.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const isProduction = e.NODE_ENV === 'production';

  for (const [name, value] of [['JWT_SECRET', e.JWT_SECRET], ['JWT_PREVIOUS_SECRET', e.JWT_PREVIOUS_SECRET]] as const) {
    if (value !== undefined && Buffer.byteLength(value) < MIN_SECRET_BYTES) {
      problems.push(`${name}: must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 48)`);
    }
  }
  // PEM values often arrive through env files with literal "\n"s.
  const pem = (v: string | undefined) => v?.replace(/\\n/g, '\n');
  const privateKeyPem = pem(e.JWT_PRIVATE_KEY);
  const previousPublicKeyPem = pem(e.JWT_PREVIOUS_PUBLIC_KEY);
  for (const [name, value, parse] of [
    ['JWT_PRIVATE_KEY', privateKeyPem, (v: string) => algorithmOf(createPublicKey(createPrivateKey(v)))],
    ['JWT_PREVIOUS_PUBLIC_KEY', previousPublicKeyPem, (v: string) => algorithmOf(createPublicKey(v))],
  ] as const) {
    if (value === undefined) continue;
    try {
      parse(value);
    } catch (err) {
      problems.push(`${name}: not a usable PEM key (${(err as Error).message})`);
    }
  }
  // Embedded mode may generate its own secret; a real deployment must be given a key.
  if (!e.JWT_SECRET && !privateKeyPem && (isProduction || e.DATABASE_URL)) {
    problems.push('JWT_SECRET: required (or JWT_PRIVATE_KEY) when DATABASE_URL is set or NODE_ENV=production');
  }
  if ((e.ADMIN_EMAIL === undefined) !== (e.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_EMAIL / ADMIN_PASSWORD: set both or neither');
  }
  for (const [name, pattern] of [['ACTIVITY_REPORT_CRON', e.ACTIVITY_REPORT_CRON], ['CLEANUP_CRON', e.CLEANUP_CRON]] as const) {
    try {
      CronExpressionParser.parse(pattern, { tz: 'UTC' });
    } catch (err) {
      problems.push(`${name}: not a cron pattern (${(err as Error).message})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const db: Config['db'] = e.DATABASE_URL
    ? {
        kind: 'postgres',
        url: e.DATABASE_URL,
        poolMax: e.DB_POOL_MAX,
        statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
        idleInTransactionTimeoutMs: e.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        connectTimeoutS: e.DB_CONNECT_TIMEOUT_S,
        migrateOnStart: e.DB_MIGRATE_ON_START,
      }
    : { kind: 'pglite', dataDir: e.DATA_DIR, migrateOnStart: e.DB_MIGRATE_ON_START };

  return deepFreeze({
    env: e.NODE_ENV,
    isProduction,
    http: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: e.PUBLIC_URL,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      corsOrigins: e.CORS_ORIGINS ?? (isProduction ? [] : 'localhost'),
      trustProxy: e.TRUST_PROXY,
    },
    logLevel: e.LOG_LEVEL,
    logQueryCounts: e.LOG_QUERY_COUNTS ?? !isProduction,
    db,
    dataDir: e.DATA_DIR,
    seedDemoData: e.SEED_DEMO_DATA ?? db.kind === 'pglite',
    redis: e.REDIS_URL ? { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX, cacheUrl: e.CACHE_REDIS_URL ?? e.REDIS_URL, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS } : undefined,
    auth: {
      jwtSecret: e.JWT_SECRET,
      jwtPreviousSecret: e.JWT_PREVIOUS_SECRET,
      jwtPrivateKey: privateKeyPem,
      jwtPreviousPublicKey: previousPublicKeyPem,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
      loginMaxAttempts: e.LOGIN_MAX_ATTEMPTS,
      registrationsPerHour: e.REGISTRATIONS_PER_HOUR,
    },
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : undefined,
    graphql: {
      introspection: e.GRAPHQL_INTROSPECTION ?? !isProduction,
      landingPage: !isProduction,
      maxDepth: e.MAX_QUERY_DEPTH,
      maxCost: e.MAX_QUERY_COST,
      maxAliases: e.MAX_ALIASES,
      maxDirectives: e.MAX_DIRECTIVES,
      maxTokens: e.MAX_TOKENS,
      subscriptionMaxQueued: e.SUBSCRIPTION_MAX_QUEUED,
      wsConnectionInitTimeoutMs: e.WS_CONNECTION_INIT_TIMEOUT_MS,
      operationTimeoutMs: e.OPERATION_TIMEOUT_MS,
      costBudgetPerMinute: e.COST_BUDGET_PER_MINUTE,
      maxSubscriptionsPerUser: e.MAX_SUBSCRIPTIONS_PER_USER,
      maxSocketsPerIp: e.MAX_SOCKETS_PER_IP,
    },
    metricsToken: e.METRICS_TOKEN,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    cache: {
      enabled: e.CACHE_ENABLED,
      timeoutMs: e.CACHE_TIMEOUT_MS,
      maxEntries: e.CACHE_MAX_ENTRIES,
      apqTtlSeconds: e.APQ_TTL_SECONDS,
    },
    notifications: {
      workerInProcess: e.NOTIFICATION_WORKER === 'on',
      batchSize: e.NOTIFICATION_BATCH_SIZE,
      outboxPollMs: e.OUTBOX_POLL_MS,
      outboxRequeueAfterMs: e.OUTBOX_REQUEUE_AFTER_SECONDS * 1000,
      reminderLeadMinutes: e.REMINDER_LEAD_MINUTES,
      readRetentionDays: e.READ_NOTIFICATION_RETENTION_DAYS,
      activityReportCron: e.ACTIVITY_REPORT_CRON,
      cleanupCron: e.CLEANUP_CRON,
    },
    jobs: {
      concurrency: e.WORKER_CONCURRENCY,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      lockDurationMs: e.JOB_LOCK_DURATION_MS,
      stalledIntervalMs: e.JOB_STALLED_INTERVAL_MS,
      keepCompletedSeconds: e.JOB_KEEP_COMPLETED_HOURS * 3_600,
      keepFailedSeconds: e.JOB_KEEP_FAILED_DAYS * 86_400,
      drainMs: e.JOB_DRAIN_MS,
    },
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      concurrency: e.MAIL_CONCURRENCY,
      publicAppUrl: e.PUBLIC_APP_URL.replace(/\/+$/, ''),
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
