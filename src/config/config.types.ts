import type { Env } from './env.schema.js';

/** The frozen configuration every part of the app receives (built by `loadConfig`). */
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
  /** pretty: pino-pretty lines for a developer's terminal; json: one object per line. */
  readonly logFormat: 'json' | 'pretty';
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
        /** Streaming replicas that serve queries (db/replicas/); absent: every read on the primary. */
        readonly replicas?: ReplicaConfig;
      }
    | { readonly kind: 'pglite'; readonly dataDir: string; readonly migrateOnStart: boolean };
  readonly dataDir: string;
  readonly seedDemoData: boolean;
  readonly redis:
    | {
        /** Pub/sub and BullMQ: a Redis that never evicts (maxmemory-policy noeviction). */
        readonly target: RedisTarget;
        readonly keyPrefix: string;
        /** Volatile data (throttle counters, caches): may be an LRU Redis. Defaults to `target`. */
        readonly cacheTarget: RedisTarget;
        readonly commandTimeoutMs: number;
        /** For cluster nodes and Sentinel-named masters (a URL carries its own). */
        readonly password: string | undefined;
        readonly tls: boolean;
        /** Live events with SPUBLISH/SSUBSCRIBE (cluster only): one shard hears each channel. */
        readonly shardedPubSub: boolean;
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
    /** Per-request check of access tokens against revoked sessions and role changes. */
    readonly revocationCheck: boolean;
    /** Interval of the Postgres refresh of revocations (pub/sub delivers them sooner). */
    readonly revocationRefreshMs: number;
  };
  readonly admin: { readonly email: string; readonly password: string } | undefined;
  readonly graphql: {
    readonly introspection: boolean;
    /** Queries run compiled (graphql-jit) from a document's Nth execution on; 0: never. */
    readonly jitAfter: number;
    readonly landingPage: boolean;
    readonly maxDepth: number;
    readonly maxCost: number;
    readonly maxAliases: number;
    readonly maxDirectives: number;
    readonly maxTokens: number;
    readonly subscriptionMaxQueued: number;
    /**
     * How often each instance compares its live topics with the lesson_events log; an event
     * logged but still not delivered at the next comparison is replayed from the log. 0: never.
     */
    readonly liveHealProbeMs: number;
    readonly wsConnectionInitTimeoutMs: number;
    /** A request still running after this answers SERVICE_UNAVAILABLE (TIMEOUT). */
    readonly operationTimeoutMs: number;
    /** Query cost a caller may spend per minute; 0: unlimited. */
    readonly costBudgetPerMinute: number;
    /** Per API instance; 0: unlimited. */
    readonly maxSubscriptionsPerUser: number;
    readonly maxSocketsPerIp: number;
  };
  /**
   * Bearer token /metrics requires (API and worker alike); unset: not served in production,
   * open elsewhere (see observability/metrics-guard.ts).
   */
  readonly metricsToken: string | undefined;
  /** Where `npm run worker` serves /metrics and /health; 0: not at all. */
  readonly workerMetricsPort: number;
  readonly cache: {
    /** Whole-response cache of queries (off: every query executes). */
    readonly enabled: boolean;
    /** How long Redis may stay silent (answering no cache read) before a cache read gives up. */
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
    /** Completed jobs are kept this long (so a replayed job id is still recognised). */
    readonly keepCompletedSeconds: number;
    /** Failed jobs (after their last attempt) are kept this long for inspection. */
    readonly keepFailedSeconds: number;
    /** How long shutdown waits for jobs in hand before the process exits anyway. */
    readonly drainMs: number;
  };
  readonly mail: {
    /** log: recipient and subject are logged (never the body or its links); nothing is sent. */
    readonly transport: 'smtp' | 'log';
    readonly smtpUrl: string | undefined;
    readonly from: string;
    readonly concurrency: number;
    readonly publicAppUrl: string;
  };
  readonly payments: {
    /** Unset: `startCheckout` answers PAYMENT_UNAVAILABLE. */
    readonly stripeSecretKey: string | undefined;
    /** Unset: POST /webhooks/stripe is not served (404). */
    readonly stripeWebhookSecret: string | undefined;
    readonly currency: string;
    readonly stripeApiUrl: string;
    /** Success and cancel pages of a checkout are under it. */
    readonly publicAppUrl: string;
  };
}

interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where a Redis is: one server, a cluster (seed nodes), or a master named by Sentinels. */
export type RedisTarget =
  | { readonly kind: 'standalone'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisNode[] }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly RedisNode[]; readonly name: string };

export interface ReplicaConfig {
  readonly urls: readonly string[];
  /** A replica further behind than this is skipped until it catches up. */
  readonly maxLagSeconds: number;
  /** How long after a write its author's queries wait for a replica that has replayed it. */
  readonly stickySeconds: number;
  readonly healthCheckMs: number;
}
