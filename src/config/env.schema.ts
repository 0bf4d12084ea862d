import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** `host:port,host:port`: the seed nodes of a Redis Cluster, or the Sentinels. */
const hostPorts = csv.pipe(
  z
    .array(
      z
        .string()
        .regex(/^[^\s:,]+:\d{1,5}$/, 'each entry must be host:port')
        .transform((v) => {
          const i = v.lastIndexOf(':');
          return { host: v.slice(0, i), port: Number(v.slice(i + 1)) };
        }),
    )
    .min(1, 'must list at least one host:port'),
);

/**
 * Every environment variable the app reads, with its type, bounds and default. Parsed once by
 * `loadConfig` (config.ts); nothing else reads the environment.
 */
export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(4000),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_QUERY_COUNTS: bool.optional(),
  // auto: readable lines when stdout is a terminal outside production, JSON otherwise.
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),

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
  // Streaming replicas for queries (postgres:// URLs, comma-separated); reads stay on DATABASE_URL when unset.
  DATABASE_REPLICA_URLS: csv
    .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\//, 'each entry must be a postgres:// or postgresql:// URL')))
    .optional(),
  REPLICA_MAX_LAG_SECONDS: int(0, 3_600).default(10),
  REPLICA_STICKY_SECONDS: int(1, 86_400).default(30),
  REPLICA_HEALTH_CHECK_MS: int(100, 60_000).default(1_000),
  SEED_DEMO_DATA: bool.optional(),

  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('eduflow:'),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(2_000),
  CACHE_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  // Redis Cluster or Sentinel instead of REDIS_URL (and likewise for the cache Redis).
  REDIS_CLUSTER_NODES: hostPorts.optional(),
  CACHE_REDIS_CLUSTER_NODES: hostPorts.optional(),
  REDIS_SENTINELS: hostPorts.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  CACHE_REDIS_SENTINELS: hostPorts.optional(),
  CACHE_REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  // For cluster nodes and the masters Sentinel names (a REDIS_URL carries its own).
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_TLS: bool.optional(),
  REDIS_SHARDED_PUBSUB: bool.default(false),

  JWT_SECRET: z.string().optional(),
  JWT_PREVIOUS_SECRET: z.string().optional(),
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_PREVIOUS_PUBLIC_KEY: z.string().optional(),
  JWT_ISSUER: z.string().min(1).default('eduflow'),
  JWT_AUDIENCE: z.string().min(1).default('eduflow-api'),
  ACCESS_TOKEN_TTL_SECONDS: int(1, 24 * 3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 365).default(30),
  // How often each instance re-reads recent revocations from Postgres (the safety net under pub/sub).
  REVOCATION_REFRESH_MS: int(100, 60_000).default(1_000),
  // off: access tokens are not checked against revocations (benchmarks only; refused in production).
  REVOCATION_CHECK: bool.optional(),
  LOGIN_MAX_ATTEMPTS: int(1, 1_000).default(5),
  REGISTRATIONS_PER_HOUR: int(1, 100_000).default(20),

  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(10).max(128).optional(),

  CORS_ORIGINS: csv.optional(),
  GRAPHQL_INTROSPECTION: bool.optional(),
  // The explorer at GET /graphql and Apollo Sandbox at /sandbox: on outside production by default.
  EXPLORER: z.enum(['on', 'off']).optional(),
  // Queries run compiled by graphql-jit from a document's Nth execution on; 0 keeps graphql-js.
  GRAPHQL_JIT_AFTER: int(0, 1_000_000).default(2),
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
  LIVE_HEAL_PROBE_MS: int(0, 600_000).default(5_000),
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
  // A dead worker's job is taken over at the first stalled check after its lock ran out: at
  // most lock + interval (BullMQ's 30 s / 30 s defaults meant up to a minute and more).
  // Email claims are leases of the same length, so they run out with the lock.
  JOB_LOCK_DURATION_MS: int(1_000, 600_000).default(20_000),
  JOB_STALLED_INTERVAL_MS: int(500, 600_000).default(10_000),
  JOB_DRAIN_MS: int(0, 600_000).default(30_000),
  JOB_KEEP_COMPLETED_HOURS: int(1, 24 * 30).default(24),
  JOB_KEEP_FAILED_DAYS: int(1, 365).default(14),
  ACTIVITY_REPORT_CRON: z.string().min(1).default('0 6 * * *'),
  CLEANUP_CRON: z.string().min(1).default('*/30 * * * *'),

  CACHE_ENABLED: bool.default(true),
  CACHE_TIMEOUT_MS: int(1, 1_000).default(100),
  CACHE_MAX_ENTRIES: int(10, 1_000_000).default(5_000),
  APQ_TTL_SECONDS: int(60, 30 * 86_400).default(86_400),

  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  // smtp: send through SMTP_URL; log: write recipient and subject to the log, send nothing.
  // Default: smtp when SMTP_URL is set, else log (refused in production: say MAIL_TRANSPORT=log).
  MAIL_TRANSPORT: z.enum(['smtp', 'log']).optional(),
  MAIL_FROM: z.string().min(3).default('EduFlow <no-reply@eduflow.local>'),
  MAIL_CONCURRENCY: int(1, 50).default(5),
  PUBLIC_APP_URL: z.url().default('http://localhost:3000'),

  // Payments: checkout needs the secret key; the webhook needs its signing secret.
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_/, 'must be a Stripe secret key (sk_... or rk_...)')
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_/, 'must be a Stripe webhook signing secret (whsec_...)')
    .optional(),
  STRIPE_CURRENCY: z
    .string()
    .regex(/^[a-z]{3}$/, 'must be a three-letter ISO currency code in lower case')
    .default('usd'),
  // Where the Stripe SDK sends API calls; tests point it at a local stand-in.
  STRIPE_API_URL: z.url().default('https://api.stripe.com'),
});

export type Env = z.infer<typeof EnvSchema>;
