import { createPrivateKey, createPublicKey } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { algorithmOf } from '../auth/jwt-keys.js';
import type { Config, RedisTarget } from './config.types.js';
import { EnvSchema } from './env.schema.js';

export type { Config, RedisTarget } from './config.types.js';

/**
 * The only module that reads the environment. Everything else receives the frozen `Config`.
 * `loadConfig` reports every bad variable at once (not just the first) so an operator fixes
 * a deployment in one pass.
 */

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

  for (const [name, value] of [
    ['JWT_SECRET', e.JWT_SECRET],
    ['JWT_PREVIOUS_SECRET', e.JWT_PREVIOUS_SECRET],
  ] as const) {
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
  for (const [name, pattern] of [
    ['ACTIVITY_REPORT_CRON', e.ACTIVITY_REPORT_CRON],
    ['CLEANUP_CRON', e.CLEANUP_CRON],
  ] as const) {
    try {
      CronExpressionParser.parse(pattern, { tz: 'UTC' });
    } catch (err) {
      problems.push(`${name}: not a cron pattern (${(err as Error).message})`);
    }
  }
  // A statement blocked past its timeout is cancelled (and its transaction rolled back) by
  // Postgres before the client hears "timed out": no write lands after a 503 that way.
  if (e.DATABASE_URL && e.OPERATION_TIMEOUT_MS <= e.DB_STATEMENT_TIMEOUT_MS) {
    problems.push('OPERATION_TIMEOUT_MS: must be longer than DB_STATEMENT_TIMEOUT_MS');
  }
  if (isProduction && e.REVOCATION_CHECK === false) {
    problems.push('REVOCATION_CHECK: cannot be off in production (it exists for benchmarks)');
  }
  // Without SMTP the mails (reset and verification links among them) are not delivered at all:
  // production must say so explicitly rather than end up there by a missing variable.
  if (e.MAIL_TRANSPORT === 'smtp' && !e.SMTP_URL) problems.push('SMTP_URL: required when MAIL_TRANSPORT=smtp');
  if (e.MAIL_TRANSPORT === 'log' && e.SMTP_URL)
    problems.push(
      'MAIL_TRANSPORT: log sends nothing although SMTP_URL is set (set MAIL_TRANSPORT=smtp, or unset SMTP_URL)',
    );
  if (isProduction && !e.SMTP_URL && e.MAIL_TRANSPORT !== 'log') {
    problems.push(
      'SMTP_URL: required in production (or set MAIL_TRANSPORT=log to log recipient and subject and send nothing)',
    );
  }
  const redisTarget = redisTargetOf(
    problems,
    '',
    e.REDIS_URL,
    e.REDIS_CLUSTER_NODES,
    e.REDIS_SENTINELS,
    e.REDIS_SENTINEL_NAME,
  );
  const cacheRedisTarget = redisTargetOf(
    problems,
    'CACHE_',
    e.CACHE_REDIS_URL,
    e.CACHE_REDIS_CLUSTER_NODES,
    e.CACHE_REDIS_SENTINELS,
    e.CACHE_REDIS_SENTINEL_NAME,
  );
  if (!redisTarget && (e.CACHE_REDIS_CLUSTER_NODES || e.CACHE_REDIS_SENTINELS)) {
    problems.push(
      'CACHE_REDIS_CLUSTER_NODES / CACHE_REDIS_SENTINELS: need REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS too',
    );
  }
  if (e.REDIS_SHARDED_PUBSUB && redisTarget?.kind !== 'cluster') {
    problems.push('REDIS_SHARDED_PUBSUB: sharded pub/sub needs a Redis Cluster (REDIS_CLUSTER_NODES)');
  }
  // Our keys carry their own hash tags ({...}) to keep what a script touches in one slot; a
  // brace in the prefix would put every key of the deployment in a single slot instead.
  if ((redisTarget?.kind === 'cluster' || cacheRedisTarget?.kind === 'cluster') && /[{}]/.test(e.REDIS_KEY_PREFIX)) {
    problems.push('REDIS_KEY_PREFIX: must not contain { or } on a Redis Cluster (EduFlow adds its own hash tags)');
  }
  if (e.DATABASE_REPLICA_URLS?.length && !e.DATABASE_URL) {
    problems.push('DATABASE_REPLICA_URLS: needs DATABASE_URL (the primary); embedded mode has no replicas');
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
        ...(e.DATABASE_REPLICA_URLS?.length
          ? {
              replicas: {
                urls: e.DATABASE_REPLICA_URLS,
                maxLagSeconds: e.REPLICA_MAX_LAG_SECONDS,
                stickySeconds: e.REPLICA_STICKY_SECONDS,
                healthCheckMs: e.REPLICA_HEALTH_CHECK_MS,
              },
            }
          : {}),
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
    logFormat:
      e.LOG_FORMAT === 'auto' ? (!isProduction && process.stdout.isTTY === true ? 'pretty' : 'json') : e.LOG_FORMAT,
    logQueryCounts: e.LOG_QUERY_COUNTS ?? !isProduction,
    db,
    dataDir: e.DATA_DIR,
    seedDemoData: e.SEED_DEMO_DATA ?? db.kind === 'pglite',
    redis: redisTarget
      ? {
          target: redisTarget,
          keyPrefix: e.REDIS_KEY_PREFIX,
          cacheTarget: cacheRedisTarget ?? redisTarget,
          commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
          password: e.REDIS_PASSWORD,
          tls: e.REDIS_TLS ?? false,
          shardedPubSub: e.REDIS_SHARDED_PUBSUB,
        }
      : undefined,
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
      revocationCheck: e.REVOCATION_CHECK ?? true,
      revocationRefreshMs: e.REVOCATION_REFRESH_MS,
    },
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : undefined,
    graphql: {
      introspection: e.GRAPHQL_INTROSPECTION ?? (e.EXPLORER ? e.EXPLORER === 'on' : !isProduction),
      jitAfter: e.GRAPHQL_JIT_AFTER,
      landingPage: e.EXPLORER ? e.EXPLORER === 'on' : !isProduction,
      maxDepth: e.MAX_QUERY_DEPTH,
      maxCost: e.MAX_QUERY_COST,
      maxAliases: e.MAX_ALIASES,
      maxDirectives: e.MAX_DIRECTIVES,
      maxTokens: e.MAX_TOKENS,
      subscriptionMaxQueued: e.SUBSCRIPTION_MAX_QUEUED,
      liveHealProbeMs: e.LIVE_HEAL_PROBE_MS,
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
      transport: e.MAIL_TRANSPORT ?? (e.SMTP_URL ? 'smtp' : 'log'),
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      concurrency: e.MAIL_CONCURRENCY,
      publicAppUrl: e.PUBLIC_APP_URL.replace(/\/+$/, ''),
    },
    payments: {
      stripeSecretKey: e.STRIPE_SECRET_KEY,
      stripeWebhookSecret: e.STRIPE_WEBHOOK_SECRET,
      currency: e.STRIPE_CURRENCY,
      stripeApiUrl: e.STRIPE_API_URL,
      publicAppUrl: e.PUBLIC_APP_URL.replace(/\/+$/, ''),
    },
  });
}

/**
 * One Redis from its three mutually exclusive descriptions (`prefix` is '' or 'CACHE_'):
 * naming two is a contradiction an operator must resolve, not one we guess at.
 */
function redisTargetOf(
  problems: string[],
  prefix: '' | 'CACHE_',
  url: string | undefined,
  clusterNodes: Array<{ host: string; port: number }> | undefined,
  sentinels: Array<{ host: string; port: number }> | undefined,
  sentinelName: string | undefined,
): RedisTarget | undefined {
  const given = [
    url && `${prefix}REDIS_URL`,
    clusterNodes && `${prefix}REDIS_CLUSTER_NODES`,
    sentinels && `${prefix}REDIS_SENTINELS`,
  ].filter(Boolean);
  if (given.length > 1) {
    problems.push(`${given.join(' / ')}: set only one of them (one Redis: a URL, a cluster, or Sentinels)`);
    return undefined;
  }
  if (sentinels && !sentinelName) problems.push(`${prefix}REDIS_SENTINEL_NAME: required with ${prefix}REDIS_SENTINELS`);
  if (sentinelName && !sentinels)
    problems.push(`${prefix}REDIS_SENTINEL_NAME: only meaningful with ${prefix}REDIS_SENTINELS`);
  if (url) return { kind: 'standalone', url };
  if (clusterNodes) return { kind: 'cluster', nodes: clusterNodes };
  if (sentinels && sentinelName) return { kind: 'sentinel', sentinels, name: sentinelName };
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
